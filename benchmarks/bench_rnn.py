"""Time one training step of a recurrent layer: forward, backpropagation through time, SGD update.

The model is the same everywhere: a recurrent layer (SimpleRNN or LSTM, H units) over a float32
batch ``x (B, T, D)``, the loss ``mean(h_T ** 2)`` of its last output, and plain SGD
``w -= 0.01 * dL/dw`` on its three weights. Implementations, measured in the same run:

* ``minigrad``: ``mgl.SimpleRNN`` / ``mgl.LSTM`` under an ``mg.GradientTape``, on the fused path
  (one ``mg.simple_rnn_sequence`` / ``mg.lstm_sequence`` record per call);
* ``per-step``: the same layers with ``unroll=True``, the per-step loop (every step's ops on the
  tape, as ``trace_bptt`` sees them);
* ``numpy``: the BPTT loops of ``minigrad/recurrent_reference.py`` (the tests check them
  against the tape);
* ``torch``: ``nn.RNN`` / ``nn.LSTM`` with ``torch.set_num_threads(2)``, when PyTorch is importable
  (it is not a dependency of this project).

A second table times one-step stateful inference, as in sampling text: batch 1, one timestep a
call, ``layer(x_t)`` on a stateful ``mgl.SimpleRNN`` / ``mgl.LSTM`` / ``mgl.GRU`` of 128 units
against ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` called with the carried state under
``torch.no_grad()`` (µs per call, medians of several runs of 500 calls, best of three rounds
in turn; ``--one-step`` prints only this table).

Sizes: S = (B=32, T=50, D=16, H=64) and M = (B=64, T=100, D=64, H=128). Each step is run after a
warm-up, several times, and its median taken; the libraries take turns (three times, keeping the
best median, so that a burst of load from elsewhere does not decide a ratio). The medians and the
ratios minigrad / numpy, minigrad / torch and per-step / torch are printed. ``--profile`` also
prints where minigrad's steps spend their time (cProfile).

    python benchmarks/bench_rnn.py [--sizes S,M] [--profile] [--one-step]
"""

import os

os.environ.setdefault("MINIGRAD_NUM_THREADS", "2")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad_layers as mgl  # noqa: E402
from minigrad import recurrent_reference  # noqa: E402

SIZES = {"S": (32, 50, 16, 64), "M": (64, 100, 64, 128)}
RUNS = {"S": 9, "M": 5}
WARM_UP = 6  # steps before timing
ROUNDS = 3  # each library is measured in turn, three times; the best of the medians is kept
LEARNING_RATE = 0.01
GATES = {"SimpleRNN": 1, "LSTM": 4}


def initial_weights(model: str, D: int, H: int, seed: int = 0) -> list[np.ndarray]:
    """Kernel (D, gH), recurrent kernel (H, gH), bias (gH,) in the Keras layout, float32."""
    rng = np.random.default_rng(seed)
    g = GATES[model]
    return [
        (rng.normal(size=(D, g * H)) / np.sqrt(D)).astype(np.float32),
        (rng.normal(size=(H, g * H)) / np.sqrt(H)).astype(np.float32),
        np.zeros(g * H, dtype=np.float32),
    ]


def median_ms(step, runs: int) -> float:
    # Warm-up: compiles the kernels, fills the caches, and lets glibc's allocator settle. Its
    # threshold for serving a large array from fresh (page-faulting) memory rises as such arrays
    # are freed, so the first few steps of a run are up to 1.7x slower than the later ones.
    for _ in range(WARM_UP):
        step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


# -------------------------------------------------------------------------------------------------
# the three implementations of one training step
# -------------------------------------------------------------------------------------------------


def minigrad_step(model: str, x: np.ndarray, weights: list[np.ndarray], unroll: bool = False):
    layer = getattr(mgl, model)(weights[1].shape[0], unroll=unroll)
    inputs = mg.tensor(x)
    layer(inputs[:, :1])
    layer.set_weights(weights)
    params = layer.trainable_weights

    def step():
        with mg.GradientTape() as tape:
            h = layer(inputs)  # (B, H), the last output
            loss = mg.mean(h * h)
        for w, g in zip(params, tape.gradient(loss, params), strict=True):
            w.assign_sub(LEARNING_RATE * g.numpy())

    return step


def numpy_step(model: str, x: np.ndarray, weights: list[np.ndarray], ref):
    W, U, b = (w.copy() for w in weights)
    B, T = x.shape[:2]
    H = U.shape[0]
    h0 = np.zeros((B, H), dtype=np.float32)
    dys = np.zeros((B, T, H), dtype=np.float32)

    def step():
        if model == "SimpleRNN":
            ys, h, cache = ref.simple_rnn_forward(x, h0, W, U, b)
            dys[:, -1] = 2.0 * h / h.size  # d mean(h²) / dh
            _, _, dW, dU, db = ref.simple_rnn_backward(dys, np.zeros_like(h), cache)
        else:
            ys, h, c, cache = ref.lstm_forward(x, h0, h0, W, U, b)
            dys[:, -1] = 2.0 * h / h.size
            _, _, _, dW, dU, db = ref.lstm_backward(dys, np.zeros_like(h), np.zeros_like(c), cache)
        for w, g in ((W, dW), (U, dU), (b, db)):
            w -= np.float32(LEARNING_RATE) * g

    return step


def torch_step(model: str, x: np.ndarray, weights: list[np.ndarray], torch):
    D, H = weights[0].shape[0], weights[1].shape[0]
    net = (torch.nn.RNN if model == "SimpleRNN" else torch.nn.LSTM)(D, H, batch_first=True)
    inputs = torch.from_numpy(x)
    params = list(net.parameters())

    def step():
        out, _ = net(inputs)
        loss = (out[:, -1] ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad

    return step


def import_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    return torch


# -------------------------------------------------------------------------------------------------
# one-step stateful inference
# -------------------------------------------------------------------------------------------------

ONE_STEP_D, ONE_STEP_H, ONE_STEP_CALLS = 64, 128, 500
TORCH_MODULES = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}


def minigrad_sampler(model: str, x: np.ndarray):
    """``ONE_STEP_CALLS`` calls ``layer(x_t)`` of a stateful layer, ``x_t (1, 1, D)``."""
    layer = getattr(mgl, model)(ONE_STEP_H, stateful=True)
    layer(x)

    def calls():
        for _ in range(ONE_STEP_CALLS):
            layer(x)

    return calls


def torch_sampler(model: str, x: np.ndarray, torch):
    """The same calls on the torch module, carrying its state ``h`` (or ``(h, c)``) by hand."""
    net = getattr(torch.nn, TORCH_MODULES[model])(ONE_STEP_D, ONE_STEP_H, batch_first=True)
    inputs = torch.from_numpy(x)
    carried = [None]

    def calls():
        with torch.no_grad():
            state = carried[0]
            for _ in range(ONE_STEP_CALLS):
                _, state = net(inputs, state)
            carried[0] = state

    return calls


def one_step_table(torch) -> None:
    print(f"\none-step stateful inference, batch 1, H={ONE_STEP_H}, D={ONE_STEP_D} (µs a call)")
    print(f"{'model':9} {'minigrad':>9} {'torch':>9} {'mg/torch':>9}")
    x = np.random.default_rng(2).normal(size=(1, 1, ONE_STEP_D)).astype(np.float32)
    for model in TORCH_MODULES:
        calls = {"minigrad": minigrad_sampler(model, x)}
        if torch is not None:
            calls["torch"] = torch_sampler(model, x, torch)
        times = {name: float("inf") for name in calls}
        for _ in range(ROUNDS):
            for name, run in calls.items():
                time.sleep(0.2)
                times[name] = min(times[name], 1e3 * median_ms(run, 5) / ONE_STEP_CALLS)
        mg_us, torch_us = times["minigrad"], times.get("torch", float("nan"))
        print(f"{model:9} {mg_us:9.1f} {torch_us:9.1f} {mg_us / torch_us:9.2f}")


# -------------------------------------------------------------------------------------------------


def profile_minigrad(model: str, size: str) -> None:
    B, T, D, H = SIZES[size]
    x = np.random.default_rng(1).normal(size=(B, T, D)).astype(np.float32)
    step = minigrad_step(model, x, initial_weights(model, D, H))
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        step()
    profiler.disable()
    print(f"\ncProfile of 3 minigrad {model} steps at {size} (sorted by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="cProfile minigrad's steps")
    parser.add_argument("--sizes", default="S,M", help="which of the sizes S, M to run")
    parser.add_argument("--one-step", action="store_true", help="only the one-step inference")
    args = parser.parse_args()

    mg.set_floatx("float32")
    ref = recurrent_reference
    torch = import_torch()
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'not installed'}")
    if args.one_step:
        one_step_table(torch)
        return
    header = f"{'size':4} {'model':9} {'numpy ms':>9} {'minigrad ms':>12} {'per-step ms':>12}"
    header += f" {'torch ms':>9} {'mg/numpy':>9} {'mg/torch':>9} {'step/torch':>10}"
    print(header)
    for size in args.sizes.split(","):
        B, T, D, H = SIZES[size]
        x = np.random.default_rng(1).normal(size=(B, T, D)).astype(np.float32)
        for model in ("SimpleRNN", "LSTM"):
            weights = initial_weights(model, D, H)
            steps = {
                "numpy": numpy_step(model, x, weights, ref),
                "minigrad": minigrad_step(model, x, weights),
                "per-step": minigrad_step(model, x, weights, unroll=True),
            }
            if torch is not None:
                steps["torch"] = torch_step(model, x, weights, torch)
            times = {name: float("inf") for name in steps}
            for _ in range(ROUNDS):
                for name, step in steps.items():
                    time.sleep(0.5)  # let the previous library's idle threads settle
                    times[name] = min(times[name], median_ms(step, RUNS[size]))
            mg_ms, step_ms = times["minigrad"], times["per-step"]
            torch_ms = times.get("torch", float("nan"))
            print(
                f"{size:4} {model:9} {times['numpy']:9.1f} {mg_ms:12.1f} {step_ms:12.1f}"
                f" {torch_ms:9.1f} {mg_ms / times['numpy']:9.2f} {mg_ms / torch_ms:9.2f}"
                f" {step_ms / torch_ms:10.2f}"
            )
    one_step_table(torch)
    if args.profile:
        for model in ("SimpleRNN", "LSTM"):
            profile_minigrad(model, "M")


if __name__ == "__main__":
    main()
