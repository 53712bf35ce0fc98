# %% [markdown]
"""# RTRL beside BPTT: the same gradient, forward or backward in time

Backpropagation through time stores the states of every step and sweeps back over them once the
sequence is done; real-time recurrent learning (Williams and Zipser 1989) carries, with the
state, its derivative with respect to every weight (the influence matrix ``M_t = ds_t/dtheta``)
and has the gradient complete the moment the last step is done::

    BPTT: memory grows with T (one stored state per step),  time ~ T S P
    RTRL: memory S P per example, whatever T,                time ~ T S^2 P

(S state numbers, P weights). Truncated BPTT (``truncate_gradient=k``) stores as much as BPTT
but stops each gradient after k steps: cheaper to think about, and no longer the gradient of the
loss. This script checks that RTRL (``mgl.inspect.rtrl_gradients``) and BPTT (the tape) agree, then
measures time and peak memory of the three as the sequence length T and the units H grow.

It runs as a script or, cell by cell (``# %%``), as a notebook.

    python examples/10_rtrl_vs_bptt.py [--quick]
"""

# %%
import argparse
import time
import tracemalloc

import numpy as np

import minigrad as mg
import minigrad_layers as mgl

BATCH, FEATURES, TRUNCATION = 2, 4, 10


def loss_fn(outputs):
    """Squared error of every step's output against a fixed pattern."""
    target = mg.tensor(np.cos(np.arange(outputs.size)).reshape(outputs.shape))
    return mg.sum((outputs - target) ** 2)


def bptt(layer, x):
    """The weight gradients by the tape's backward sweep (BPTT, truncated if the layer is)."""
    with mg.GradientTape() as tape:
        loss = loss_fn(layer(x))
    return [g.numpy() for g in tape.gradient(loss, layer.cell.trainable_weights)]


def rtrl(layer, x):
    """The weight gradients forward in time (the same order of weights as :func:`bptt`)."""
    grads = mgl.inspect.rtrl_gradients(layer, x, loss_fn).gradients
    return [grads[w.name] for w in layer.cell.trainable_weights]


def measure(method, layer, x) -> tuple[float, float]:
    """(seconds, peak megabytes allocated) of one gradient computation, after a warm-up."""
    method(layer, x)
    tracemalloc.start()
    start = time.perf_counter()
    method(layer, x)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak / 2**20


# %% [markdown]
# ## The same numbers
# In float64, the two ways give the same gradient to rounding, for every built-in cell.


# %%
def check_agreement() -> float:
    mg.set_floatx("float64")
    rng = np.random.default_rng(0)
    worst = 0.0
    for make in (lambda: mgl.SimpleRNN(5), lambda: mgl.LSTM(3), lambda: mgl.GRU(4)):
        layer = make()
        layer.return_sequences = True
        x = rng.normal(size=(BATCH, 12, FEATURES))
        for a, b in zip(rtrl(layer, x), bptt(layer, x), strict=True):
            worst = max(worst, float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-300)))
    print(f"largest relative difference RTRL vs BPTT over SimpleRNN, LSTM, GRU: {worst:.1e}")
    return worst


# %% [markdown]
# ## Time and memory as T and H grow


# %%
def compare(lengths, units) -> list[dict]:
    mg.set_floatx("float64")
    rng = np.random.default_rng(1)
    rows = []
    print(
        f"{'H':>3} {'T':>4} | {'BPTT s':>7} {'MB':>6} | {'trunc s':>7} {'MB':>6} | "
        f"{'RTRL s':>7} {'MB':>6}"
    )
    for h in units:
        for steps in lengths:
            x = rng.normal(size=(BATCH, steps, FEATURES))
            full = mgl.SimpleRNN(h, return_sequences=True)
            truncated = mgl.SimpleRNN(h, return_sequences=True, truncate_gradient=TRUNCATION)
            full(x)
            truncated(x)
            truncated.set_weights(full.get_weights())
            influence = mgl.inspect.rtrl_gradients(full, x, loss_fn).influence_bytes / 2**20
            row = {
                "H": h,
                "T": steps,
                "bptt": measure(bptt, full, x),
                "truncated": measure(bptt, truncated, x),
                "rtrl": measure(rtrl, full, x),
                "influence MB": influence,
            }
            rows.append(row)
            cells = " | ".join(
                f"{row[k][0]:7.3f} {row[k][1]:6.2f}" for k in ("bptt", "truncated", "rtrl")
            )
            print(f"{h:>3} {steps:>4} | {cells} {influence:6.4f}")
    return rows


# %%
def main(quick: bool = False) -> dict:
    worst = check_agreement()
    lengths, units = ((10, 160), (2, 4)) if quick else ((25, 100, 400), (4, 8, 16))
    rows = compare(lengths, units)
    print(
        "BPTT's memory grows with T; RTRL's influence matrices M_t (B S P numbers, last "
        "column) do not, and its time grows with S^2 P. The rest of RTRL's peak is the outputs "
        "and their loss gradients, (B, T, H) as in any forward pass. Truncation "
        f"(k = {TRUNCATION}) saves no memory here: the tape still holds every step."
    )
    mg.set_floatx("float32")
    return {"worst": worst, "rows": rows}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="RTRL beside BPTT")
    parser.add_argument("--quick", action="store_true", help="small sizes, in seconds")
    main(quick=parser.parse_known_args()[0].quick)
