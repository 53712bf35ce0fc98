"""Memory-efficient BPTT: peak memory and time of one gradient with ``checkpoint_every=k`` against
full storage (``checkpoint_every=None``), in the same run.

The layer is an LSTM (B 16, H 64, D 16) over T = 10,000 steps, float32, on the fused path and on
the per-step loop (``unroll=True``, shorter T: the per-step tape holds far more per step); the
loss is ``sum(h_T ** 2)``. Peak memory is what ``tracemalloc`` sees numpy allocate during the
forward pass and the gradient, given in MB and in "states" (one state is ``B * H`` float32 numbers,
an LSTM step carries two). With ``k = sqrt(T)`` the aim is at most ``2 sqrt(T)`` steps' worth of
states at about 1.5x the time.

    python benchmarks/bench_checkpoint.py [--steps T] [--per-step-steps T]
"""

import os

os.environ.setdefault("MINIGRAD_NUM_THREADS", "2")

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad_layers as mgl  # noqa: E402

B, D, H = 16, 16, 64
RUNS = 3


def gradient(layer, x):
    with mg.GradientTape() as tape:
        loss = mg.sum(layer(x) ** 2)
    return tape.gradient(loss, layer.trainable_weights)


def measure(layer, x) -> tuple[float, float]:
    """(median seconds, peak MB) of one forward + gradient, after a warm-up."""
    gradient(layer, x)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        gradient(layer, x)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    gradient(layer, x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def compare(steps: int, unroll: bool) -> None:
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.normal(size=(B, steps, D)).astype(np.float32))
    k = round(math.sqrt(steps))
    full = mgl.LSTM(H, unroll=unroll)
    segmented = mgl.LSTM(H, unroll=unroll, checkpoint_every=k)
    full(x)
    segmented(x)
    segmented.set_weights(full.get_weights())
    state_mb = B * H * 4 / 2**20
    path = "per-step loop" if unroll else "fused path"
    print(f"\nLSTM({H}), B {B}, T {steps:,}, {path}; k = {k}, 2 sqrt(T) = {2 * k} states")
    base_time, base_mb = measure(full, x)
    print(
        f"  full storage:      {base_time:7.3f} s  {base_mb:8.1f} MB  "
        f"({base_mb / state_mb:8.0f} states)"
    )
    seg_time, seg_mb = measure(segmented, x)
    print(
        f"  checkpoint_every:  {seg_time:7.3f} s  {seg_mb:8.1f} MB  "
        f"({seg_mb / state_mb:8.0f} states)"
    )
    print(f"  ratio:             {seg_time / base_time:7.2f}x time, {seg_mb / base_mb:.3f}x memory")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--per-step-steps", type=int, default=2_500)
    args = parser.parse_args()
    compare(args.steps, unroll=False)
    compare(args.per_step_steps, unroll=True)
