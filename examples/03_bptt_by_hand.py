# %% [markdown]
"""Backpropagation through time by hand: a SimpleRNN in numpy, checked against the tape.

The forward pass of a SimpleRNN, ``h_t = tanh(x_t W + h_{t-1} U + b)``, and its backward pass are
the numpy loops of ``minigrad/recurrent_reference.py`` (``simple_rnn_forward`` and
``simple_rnn_backward``; read them next to this script), one line per equation: the forward loop
caches every ``h_t``, the backward loop walks the steps in reverse carrying ``dh`` (min-char-rnn /
CS231n style). ``h_t`` is the state after step t (t = 0..T-1) and ``h_{-1} = h0`` the initial
state. The loss is ``L = 1/2 sum_t ||h_t - y_t||^2``, so every step has a direct part of the
gradient, ``dL/dh_t = h_t - y_t``, which is what the backward loop takes as ``dys``.

The script then runs ``mgl.SimpleRNN`` with the same weights, in float64, and prints the largest
differences from the hand-written gradients:

* ``tape.gradient``: dW, dU, db, dx and dh0 (the gradient with respect to the initial state),
  once on the fused path (the default ``unroll=False``: one ``simple_rnn_sequence`` record whose
  gradient rule is this same reverse loop, compiled) and once on the per-step path
  (``unroll=True``: every step's ops on the tape);
* ``mgl.inspect.trace_bptt``: ``state_grads[t][0]`` against the loop's ``dh`` at every step t,
  ``param_grads_by_step`` against the loop's per-step contributions to dW, dU and db, and
  ``input_grads`` against dx.

It runs as a script or, cell by cell (``# %%``), as a notebook.

    python examples/03_bptt_by_hand.py [--quick]
"""

# %%
import argparse

import numpy as np

import minigrad as mg
import minigrad_layers as mgl
from minigrad import recurrent_reference as ref

# %% [markdown]
# ## BPTT by hand
# The reverse loop of ``ref.simple_rnn_backward``, with ``a_t = x_t W + h_{t-1} U + b``:
#
#     dL/dh_t = (h_t - y_t) + dL/da_{t+1} U^T      (nothing from step T)
#     dL/da_t = dL/dh_t * (1 - h_t^2)
#     dW = sum_t x_t^T dL/da_t,   dU = sum_t h_{t-1}^T dL/da_t,   db = sum_t sum_b dL/da_t
#     dx_t = dL/da_t W^T,         dh0 = dL/da_0 U^T


# %%
def backward(x, h0, W, U, b, ys):
    """BPTT for L = 1/2 sum_t ||h_t - y_t||^2 through the reference loops.

    Returns the loss, dW, dU, db, dx, dh0 and, for every step t, dh_t = dL/dh_t (the total: the
    loss's direct part plus what flows back from step t+1) and step t's contributions (dW_t, dU_t,
    db_t) to dW, dU and db (the weights are used at every step: their gradient is the sum of the
    steps' contributions).
    """
    hs, h_last, cache = ref.simple_rnn_forward(x, h0, W, U, b)  # hs (B, T, H): every h_t
    loss = 0.5 * np.sum((hs - ys) ** 2)
    dh_by_step = []  # filled by the reverse loop: [dh_t] per step t
    dx, dh0, dW, dU, db = ref.simple_rnn_backward(
        hs - ys, np.zeros_like(h_last), cache, state_grads=dh_by_step
    )
    contributions = []
    for t in range(x.shape[1]):
        h_prev = hs[:, t - 1] if t > 0 else h0
        # a_t = x_t W + h_{t-1} U + b and h_t = tanh(a_t): dL/da_t = dh_t * (1 - h_t^2)
        da = dh_by_step[t][0] * (1.0 - hs[:, t] ** 2)  # (B, H)
        # so step t adds x_t^T da_t to dW, h_{t-1}^T da_t to dU and sum_batch da_t to db
        contributions.append((x[:, t].T @ da, h_prev.T @ da, da.sum(axis=0)))
    dh_by_step = [dh for [dh] in dh_by_step]
    return loss, dW, dU, db, dx, dh0, dh_by_step, contributions


# %% [markdown]
# ## The layer against the loop
# The same weights in ``mgl.SimpleRNN`` (Keras order: kernel, recurrent kernel, bias),
# in float64, on the fused and the per-step path, then through ``trace_bptt``.


# %%
def main(quick: bool = False) -> None:
    previous_floatx = mg.floatx()
    mg.set_floatx("float64")  # the point is exactness: compare to rounding, not to float32
    try:
        run(quick)
    finally:
        mg.set_floatx(previous_floatx)


def run(quick: bool) -> None:
    mg.random.seed(0)
    mgl.clear_session()
    rng = mg.random.generator()
    batch, steps, n_in, n_hidden = (2, 6, 3, 4) if quick else (8, 50, 10, 32)
    x = rng.normal(size=(batch, steps, n_in))  # (B, T, D)
    ys = rng.normal(scale=0.5, size=(batch, steps, n_hidden))  # targets (B, T, H)
    h0 = rng.normal(scale=0.5, size=(batch, n_hidden))  # (B, H)
    W = rng.normal(scale=1 / np.sqrt(n_in), size=(n_in, n_hidden))
    U = rng.normal(scale=1 / np.sqrt(n_hidden), size=(n_hidden, n_hidden))
    b = rng.normal(scale=0.1, size=n_hidden)
    print(f"SimpleRNN, batch {batch}, {steps} steps, {n_in} inputs, {n_hidden} units, float64")

    loss, dW, dU, db, dx, dh0, dh_by_step, contributions = backward(x, h0, W, U, b, ys)
    print(f"loss by hand = {loss:.10f}")

    def loss_fn(outputs):  # outputs: (B, T, H), every h_t
        return 0.5 * mg.sum((outputs - ys) ** 2)

    # The same network as a layer, with the same weights (Keras order: kernel, recurrent, bias),
    # on both of its paths.
    diffs = {}
    for unroll, path in [(False, "fused"), (True, "per-step")]:
        layer = mgl.SimpleRNN(n_hidden, return_sequences=True, unroll=unroll)
        layer(x, initial_state=h0)  # builds the weights
        layer.set_weights([W, U, b])
        cell = layer.cell
        x_tensor, h0_tensor = mg.tensor(x), mg.tensor(h0)
        with mg.GradientTape() as tape:
            tape.watch([x_tensor, h0_tensor])
            tape_loss = loss_fn(layer(x_tensor, initial_state=h0_tensor))
        sources = [cell.kernel, cell.recurrent_kernel, cell.bias, x_tensor, h0_tensor]
        grads = tape.gradient(tape_loss, sources)
        print(
            f"\nThe {path} path (unroll={unroll}): {len(tape.records)} records on the tape, "
            f"loss = {float(tape_loss):.10f}.\nHand-written BPTT vs its tape.gradient, max "
            "|difference|:"
        )
        rows = {}
        for name, hand, tape_grad in zip(
            ["dW", "dU", "db", "dx", "dh0"], [dW, dU, db, dx, dh0], grads, strict=True
        ):
            rows[f"{name}_tape - {name}_hand ({path})"] = _max_diff(tape_grad, hand)
        _print_rows(rows)
        diffs.update(rows)

    trace = mgl.inspect.trace_bptt(layer, x, loss_fn, initial_state=h0)
    print(f"\nHand-written BPTT vs trace_bptt ({trace.steps} steps), max over t of |difference|:")
    rows = {
        "state_grads[t][0] - dh_t": max(
            _max_diff(trace.state_grads[t][0], dh_by_step[t]) for t in range(steps)
        )
    }
    for i, weight in enumerate([cell.kernel, cell.recurrent_kernel, cell.bias]):
        by_step = trace.param_grads_by_step[weight.name]  # (T, *weight.shape)
        short = weight.name.split("/")[-1]  # "simple_rnn/simple_rnn_cell/kernel" -> "kernel"
        rows[f"param_grads_by_step[{short}][t] - d{'WUb'[i]}_t"] = max(
            _max_diff(by_step[t], contributions[t][i]) for t in range(steps)
        )
    rows["input_grads[:, t] - dx_t"] = _max_diff(trace.input_grads, dx)
    _print_rows(rows)
    diffs.update(rows)

    norms = [np.linalg.norm(dh) for dh in dh_by_step]
    picks = [steps - 1, steps // 2, 0]
    print(
        "\n||dh_t|| at t = T-1, T/2, 0: by hand "
        + ", ".join(f"{norms[t]:.4f}" for t in picks)
        + "; trace.grad_norms "
        + ", ".join(f"{trace.grad_norms[t]:.4f}" for t in picks)
    )
    worst = max(diffs.values())
    print(f"worst difference: {worst:.2e}")
    if worst < 1e-10:
        print("The tape and trace_bptt agree with the hand-written loop to rounding.")
    else:
        print("MISMATCH: the tape or trace_bptt disagrees with the hand-written loop.")


# %%
def _max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


def _print_rows(rows: dict[str, float]) -> None:
    width = max(len(label) for label in rows)
    for label, value in rows.items():
        print(f"  {label:<{width}}  {value:.2e}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for the test suite")
    main(parser.parse_known_args()[0].quick)
