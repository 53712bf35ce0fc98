# %% [markdown]
"""# Memory-efficient BPTT: store a state every k steps, recompute the rest on the way back

BPTT keeps what every step computed until the backward sweep reaches it, so its memory grows
with the sequence length T. Checkpointing (Chen et al. 2016; Gruslys et al. 2016) keeps only
the carried state at the start of every segment of k steps; when the sweep reaches a segment, the
segment runs forward again from its stored state, under a fresh tape, and is differentiated::

    memory:  T stored steps  ->  T / k segment states + k steps of the segment being redone
    time:    one forward + one backward  ->  two forwards + one backward

With k = sqrt(T) that is about 2 sqrt(T) instead of T. The gradient is the same number, not an
approximation (unlike truncated BPTT, ``05_truncated_bptt.py``).

The idea fits in one op, ``mg.checkpoint(fn, *args)``: its forward runs ``fn`` without keeping
anything, and its gradient rule runs ``fn`` again on a fresh tape. ``RNN(...,
checkpoint_every=k)`` cuts the sequence into such segments. This script checks the gradients
agree, then measures the peak memory (numpy's allocations, ``tracemalloc``) and the time of one
gradient as T grows.

It runs as a script or, cell by cell (``# %%``), as a notebook.

    python examples/12_memory_efficient_bptt.py [--quick]
"""

# %%
import argparse
import math
import statistics
import time
import tracemalloc

import numpy as np

import minigrad as mg
import minigrad_layers as mgl

BATCH, FEATURES, UNITS = 8, 8, 32

# %% [markdown]
# ## The op: a chain of tanh steps as segments
#
# ``mg.checkpoint(segment, h, w)`` records one ``checkpoint`` op instead of the segment's
# ``k`` matmuls and tanhs; the gradient is the same.


# %%
def chain_gradient(steps: int, every: int | None) -> tuple[np.ndarray, int]:
    """dL/dw of ``L = sum(h_T)``, ``h_t = tanh(h_{t-1} w)``, and the number of records."""
    rng = np.random.default_rng(0)
    w = mg.Variable(rng.normal(scale=0.5, size=(4, 4)))
    h = mg.tensor(rng.normal(size=(2, 4)))

    def segment(h, length):
        for _ in range(length):
            h = mg.tanh(h @ w)
        return h

    with mg.GradientTape() as tape:
        if every is None:
            h = segment(h, steps)
        else:
            for start in range(0, steps, every):
                h = mg.checkpoint(segment, h, min(every, steps - start))
        loss = mg.sum(h)
    records = len(tape.records)
    return tape.gradient(loss, w).numpy(), records


# %% [markdown]
# ## The RNN option: peak memory and time of one gradient


# %%
def measure(layer, x) -> tuple[float, float]:
    """(median seconds of three runs, peak MB) of one forward + gradient, after a warm-up."""

    def gradient():
        with mg.GradientTape() as tape:
            loss = mg.sum(layer(x) ** 2)
        return tape.gradient(loss, layer.trainable_weights)

    gradient()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        gradient()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    gradient()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak


def compare(lengths: list[int]) -> list[dict]:
    rows = []
    print(f"\nLSTM({UNITS}), batch {BATCH}, per-step loop; k = round(sqrt(T))")
    print(f"{'T':>6} {'k':>4} {'full MB':>9} {'ckpt MB':>9} {'memory':>7} {'time':>6}")
    for steps in lengths:
        x = mg.tensor(np.random.default_rng(1).normal(size=(BATCH, steps, FEATURES)))
        k = round(math.sqrt(steps))
        full = mgl.LSTM(UNITS, unroll=True)
        segmented = mgl.LSTM(UNITS, unroll=True, checkpoint_every=k)
        full(x), segmented(x)
        segmented.set_weights(full.get_weights())
        full_time, full_mb = measure(full, x)
        seg_time, seg_mb = measure(segmented, x)
        rows.append({"T": steps, "k": k, "memory": seg_mb / full_mb, "time": seg_time / full_time})
        print(
            f"{steps:>6} {k:>4} {full_mb:>9.1f} {seg_mb:>9.1f} {seg_mb / full_mb:>6.2f}x "
            f"{seg_time / full_time:>5.2f}x"
        )
    return rows


# %%
def main(quick: bool = False) -> dict:
    mg.random.seed(0)
    mg.set_floatx("float64")
    plain, plain_records = chain_gradient(60, None)
    segmented, segmented_records = chain_gradient(60, 8)
    difference = float(np.max(np.abs(plain - segmented)))
    print(
        f"60 tanh steps: {plain_records} records stored, or {segmented_records} with segments "
        f"of 8; the gradients differ by {difference:.1e}"
    )
    rows = compare([25, 100] if quick else [100, 400, 1600])
    print(
        "The memory ratio falls as T grows (about 2 / sqrt(T) of the steps are held at once); "
        "the time ratio stays at about 1.5x or below: one extra forward pass."
    )
    mg.set_floatx("float32")
    return {"difference": difference, "rows": rows}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Memory-efficient BPTT")
    parser.add_argument("--quick", action="store_true", help="small sizes, in seconds")
    main(quick=parser.parse_known_args()[0].quick)
