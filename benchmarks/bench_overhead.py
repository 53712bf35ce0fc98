"""Per-op overhead of the tape: microseconds per op on tiny arrays, with and without a tape.

Prints, for an elementwise op (tanh) and a binary op (add) on a (4,) array, the cost per op with
no tape, forward under a tape (recorded) and forward + backward; and the same for a recorded
matmul of (32, 64) @ (64, 64). Medians of several runs after a warm-up, with numpy's own cost of
the same computation as the baseline measured in the same run. Target: a recorded elementwise op
costs <= 4 µs.

    python benchmarks/bench_overhead.py
"""

import os

os.environ.setdefault("MINIGRAD_NUM_THREADS", "2")

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402

N_OPS, RUNS = 2000, 7


def median_us_per_op(fn, n_ops=N_OPS, runs=RUNS) -> float:
    fn()  # warm-up (compiles kernels)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) / n_ops * 1e6)
    return statistics.median(times)


def chain(op, x, n):
    for _ in range(n):
        x = op(x)
    return x


def main():
    tiny = np.linspace(-1, 1, 4).astype(np.float32)
    x = mg.tensor(tiny)
    w = mg.Variable(tiny)
    results = {}

    results["numpy tanh"] = median_us_per_op(lambda: chain(np.tanh, tiny, N_OPS))
    results["tanh, no tape"] = median_us_per_op(lambda: chain(mg.tanh, x, N_OPS))

    def recorded_forward():
        with mg.GradientTape():
            chain(mg.tanh, w, N_OPS)

    def recorded_forward_backward():
        with mg.GradientTape() as tape:
            y = chain(mg.tanh, w, N_OPS)
        tape.gradient(y, w)

    results["tanh, recorded (forward)"] = median_us_per_op(recorded_forward)
    results["tanh, recorded (forward + backward)"] = median_us_per_op(recorded_forward_backward)

    def add_chain(v):
        return chain(lambda t: t + x, v, N_OPS)

    results["numpy add"] = median_us_per_op(lambda: chain(lambda a: a + tiny, tiny, N_OPS))
    results["add, no tape"] = median_us_per_op(lambda: add_chain(x))

    def add_recorded():
        with mg.GradientTape():
            add_chain(w)

    results["add, recorded (forward)"] = median_us_per_op(add_recorded)

    rng = np.random.default_rng(0)
    a = rng.normal(size=(32, 64)).astype(np.float32)
    b = mg.Variable(rng.normal(size=(64, 64)).astype(np.float32))
    n_mm = 500
    results["numpy matmul (32,64)@(64,64)"] = median_us_per_op(
        lambda: [a @ b.numpy() for _ in range(n_mm)], n_mm
    )

    def matmul_recorded():
        with mg.GradientTape():
            for _ in range(n_mm):
                mg.matmul(a, b)

    def matmul_forward_backward():
        with mg.GradientTape() as tape:
            ys = [mg.matmul(a, b) for _ in range(n_mm)]
        tape.gradient(ys, b)

    results["matmul (32,64)@(64,64), recorded (forward)"] = median_us_per_op(matmul_recorded, n_mm)
    results["matmul, recorded (forward + backward)"] = median_us_per_op(
        matmul_forward_backward, n_mm
    )

    width = max(map(len, results))
    for name, us in results.items():
        print(f"{name:<{width}}  {us:8.2f} µs/op")
    base = results["numpy tanh"]
    print(f"\nrecorded tanh / numpy tanh: {results['tanh, recorded (forward)'] / base:.1f}x")
    verdict = "meets" if results["tanh, recorded (forward)"] <= 4.0 else "misses"
    print(
        f"recorded elementwise op: {results['tanh, recorded (forward)']:.2f} µs "
        f"({verdict} the 4 µs target)"
    )


if __name__ == "__main__":
    main()
