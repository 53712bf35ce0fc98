"""float32 matmul: minigrad's Numba kernel against numpy's BLAS, measured in the same run.

    python benchmarks/bench_matmul.py

For each shape, prints the GFLOP/s of ``minigrad.kernels.matmul`` and of ``numpy.matmul``
(2 M K N flops per product; the median of several timed runs after a warm-up) and their ratio.
Both libraries get 2 threads unless NUMBA_NUM_THREADS / OPENBLAS_NUM_THREADS say otherwise.
OPENBLAS_CORETYPE, if set in the environment, is left alone (it can slow numpy down: compare
with ``env -u OPENBLAS_CORETYPE python benchmarks/bench_matmul.py``).
"""

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "2")  # before numba and numpy are imported
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import time  # noqa: E402

import numpy as np  # noqa: E402

from minigrad import kernels  # noqa: E402

SHAPES = [(32, 128, 128), (64, 256, 256), (256, 512, 512), (1024, 1024, 1024)]  # (M, K, N)
RUNS = 7  # timed runs per library and shape; each run repeats the product for ~0.1 s
SETTLE = 0.5  # seconds of sleep between libraries, so that idle worker threads go quiet


def gflops(matmul, a: np.ndarray, b: np.ndarray) -> float:
    """Median GFLOP/s of ``matmul(a, b)`` over RUNS runs, after a warm-up."""
    matmul(a, b)  # warm-up (and compilation for the Numba kernel)
    start = time.perf_counter()
    matmul(a, b)
    once = time.perf_counter() - start
    repeats = max(1, int(0.1 / max(once, 1e-7)))
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(repeats):
            matmul(a, b)
        times.append((time.perf_counter() - start) / repeats)
    m, k = a.shape
    n = b.shape[1]
    return 2 * m * k * n / float(np.median(times)) / 1e9


def main() -> None:
    print(
        f"threads: numba {os.environ['NUMBA_NUM_THREADS']}, "
        f"openblas {os.environ['OPENBLAS_NUM_THREADS']}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )
    rng = np.random.default_rng(0)
    for m, k, n in SHAPES:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        ours = gflops(kernels.matmul, a, b)
        time.sleep(SETTLE)
        blas = gflops(np.matmul, a, b)
        time.sleep(SETTLE)
        print(
            f"{m}x{k} @ {k}x{n}: minigrad {ours:6.1f} GFLOP/s, numpy {blas:6.1f} GFLOP/s, "
            f"ratio {ours / blas:.2f}"
        )


if __name__ == "__main__":
    main()
