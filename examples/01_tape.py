# %% [markdown]
"""The tape: what it records, name scopes, and one gradient by hand next to the tape's.

A one-step "RNN" h1 = tanh(x W + h0 U) with a squared-error loss is run under a GradientTape.
The script prints the tape's records (op, scope, shapes), then computes dL/dW by hand with the
chain rule, written out line by line, and compares it with ``tape.gradient``.

It runs as a script or, cell by cell (``# %%``), as a notebook.

    python examples/01_tape.py [--quick]
"""

# %%
import argparse

import numpy as np

import minigrad as mg

# %% [markdown]
# ## The tape, and the chain rule by hand
# Under ``GradientTape`` every op appends a record (op, scope, inputs, outputs). The gradient
# walks those records from the last to the first; written out for this network:
#
#     z = x W + h0 U,   h1 = tanh(z),   L = sum (h1 - target)^2
#     dL/dh1 = 2 (h1 - target),   dL/dz = dL/dh1 * (1 - h1^2)
#     dL/dW = x^T dL/dz,          dL/dU = h0^T dL/dz


# %%
def main(quick: bool = False) -> None:
    mg.random.seed(0)
    mg.set_floatx("float64")  # exact comparison with the hand-written numpy below
    rng = mg.random.generator()
    batch, n_in, n_hidden = (2, 3, 4) if quick else (4, 5, 8)
    x = rng.normal(size=(batch, n_in))
    h0 = rng.normal(size=(batch, n_hidden))
    target = rng.normal(size=(batch, n_hidden))
    W = mg.Variable(rng.normal(scale=0.5, size=(n_in, n_hidden)), name="W")
    U = mg.Variable(rng.normal(scale=0.5, size=(n_hidden, n_hidden)), name="U")

    with mg.GradientTape() as tape:
        with mg.name_scope("rnn/t0"):
            z = mg.matmul(x, W) + mg.matmul(h0, U)
            h1 = mg.tanh(z)
        with mg.name_scope("loss"):
            loss = mg.sum((h1 - target) ** 2)

    print("What the tape recorded (a Wengert list, in execution order):")
    for i, rec in enumerate(tape.records):
        ins = ", ".join(str(t.shape) for t in rec.inputs)
        print(f"  {i}: {rec.op:<9} scope={rec.scope!r:<9} inputs=({ins}) -> {rec.outputs[0].shape}")

    dW_tape, dU_tape = tape.gradient(loss, [W, U])

    # The same gradient by hand: walk the records above from the last to the first.
    h1_np = np.tanh(x @ W.numpy() + h0 @ U.numpy())
    d_h1 = 2 * (h1_np - target)  # loss = sum((h1 - target)^2)
    d_z = d_h1 * (1 - h1_np**2)  # h1 = tanh(z)
    dW_hand = x.T @ d_z  # z = x W + h0 U
    dU_hand = h0.T @ d_z

    print(f"\nloss = {float(loss):.6f}")
    print(f"max |dW_tape - dW_hand| = {np.abs(dW_tape.numpy() - dW_hand).max():.2e}")
    print(f"max |dU_tape - dU_hand| = {np.abs(dU_tape.numpy() - dU_hand).max():.2e}")
    assert np.allclose(dW_tape.numpy(), dW_hand) and np.allclose(dU_tape.numpy(), dU_hand)
    print("The tape's gradients equal the chain rule written by hand.")
    mg.set_floatx("float32")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for the test suite")
    main(parser.parse_known_args()[0].quick)
