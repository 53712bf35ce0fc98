"""``BPTTTrace.jacobian_norms()`` for an LSTM(128) over T = 300 steps of a batch of 16: the
Jacobians written out in numpy and their spectral norms from ``J J^T`` (the default) against
the tape's Jacobians (the cell called again on each step's rows repeated 128 times) and a full
SVD per step (``method="tape"``, the reference). Prints both times, their ratio and the largest
difference between the two results.

Run: ``PYTHONPATH=. python benchmarks/bench_jacobians.py [--units 128 --steps 300 --batch 16]``
(BLAS threads: ``OPENBLAS_NUM_THREADS=1`` is faster on a busy machine).
"""

import argparse
import time

import numpy as np

import minigrad as mg
import minigrad_layers as mgl


def tape_and_svd_norms(trace) -> np.ndarray:
    """The reference: the tape's Jacobians, all singular values per step, the largest kept."""
    return np.array(
        [
            np.linalg.svd(trace.jacobian(t, method="tape"), compute_uv=False)[:, 0].mean()
            for t in range(trace.steps)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--features", type=int, default=32)
    args = parser.parse_args()
    mg.random.seed(0)
    x = np.random.default_rng(0).normal(size=(args.batch, args.steps, args.features))
    layer = mgl.LSTM(args.units, return_sequences=True)
    trace = mgl.inspect.trace_bptt(layer, x.astype("float32"), lambda out: mg.sum(out * out))
    trace.jacobian_norms()  # warm-up (first calls of the ops), then time fresh traces' work
    trace._norms.clear()

    start = time.perf_counter()
    new = trace.jacobian_norms()
    new_seconds = time.perf_counter() - start
    start = time.perf_counter()
    old = tape_and_svd_norms(trace)
    old_seconds = time.perf_counter() - start

    print(f"LSTM({args.units}), T={args.steps}, B={args.batch}: jacobian_norms()")
    print(f"  tape Jacobians + SVD (reference): {old_seconds:7.2f} s")
    print(f"  written-out Jacobians + J J^T:    {new_seconds:7.2f} s")
    print(f"  ratio: {old_seconds / new_seconds:.1f}x")
    print(f"  largest relative difference: {np.max(np.abs(new - old) / old):.2e} (float32 layer)")


if __name__ == "__main__":
    main()
