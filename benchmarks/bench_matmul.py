"""float32 matmul: minigrad's Numba kernel against numpy's BLAS, measured in the same run.

    python benchmarks/bench_matmul.py

For each shape, prints the GFLOP/s of ``minigrad.matmul_kernels.matmul`` and of ``numpy.matmul``
(2 M K N flops per product; the median of several timed runs after a warm-up, the runs of the
two libraries alternating with a pause between them) and their ratio.
Both libraries get 2 threads unless MINIGRAD_NUM_THREADS / OPENBLAS_NUM_THREADS say otherwise.
OPENBLAS_CORETYPE, if set in the environment, is left alone (it can slow numpy down: compare
with ``env -u OPENBLAS_CORETYPE python benchmarks/bench_matmul.py``).
"""

import os

os.environ.setdefault("MINIGRAD_NUM_THREADS", "2")  # before minigrad and numpy are imported
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import time  # noqa: E402

import numpy as np  # noqa: E402

from minigrad import matmul_kernels  # noqa: E402

SHAPES = [(32, 128, 128), (64, 256, 256), (256, 512, 512), (1024, 1024, 1024)]  # (M, K, N)
RUNS = 7  # timed runs per library and shape, alternating; each repeats the product for ~0.1 s
SETTLE = 0.5  # seconds of sleep between libraries, so that idle worker threads go quiet


def seconds_per_call(matmul, a: np.ndarray, b: np.ndarray, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        matmul(a, b)
    return (time.perf_counter() - start) / repeats


def compare(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Median GFLOP/s of minigrad's and numpy's matmul(a, b), over RUNS runs of each after a
    warm-up. The runs alternate between the libraries, so that both see the same machine."""
    libraries = (matmul_kernels.matmul, np.matmul)
    repeats = []
    for matmul in libraries:  # warm-up (and compilation), then calibration
        matmul(a, b)
        repeats.append(max(1, int(0.1 / max(seconds_per_call(matmul, a, b, 1), 1e-7))))
    times = ([], [])
    for _ in range(RUNS):
        for matmul, n, spent in zip(libraries, repeats, times, strict=True):
            time.sleep(SETTLE)
            spent.append(seconds_per_call(matmul, a, b, n))
    flops = 2 * a.shape[0] * a.shape[1] * b.shape[1]
    ours, blas = (flops / float(np.median(spent)) / 1e9 for spent in times)
    return ours, blas


def main() -> None:
    print(
        f"threads: minigrad {os.environ['MINIGRAD_NUM_THREADS']}, "
        f"openblas {os.environ['OPENBLAS_NUM_THREADS']}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )
    rng = np.random.default_rng(0)
    for m, k, n in SHAPES:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        ours, blas = compare(a, b)
        print(
            f"{m}x{k} @ {k}x{n}: minigrad {ours:6.1f} GFLOP/s, numpy {blas:6.1f} GFLOP/s, "
            f"ratio {ours / blas:.2f}"
        )


if __name__ == "__main__":
    main()
