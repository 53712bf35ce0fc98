"""Time one training epoch of keras-io's addition RNN: minigrad against Keras 3 on JAX.

The model of keras-io's "Sequence to sequence learning for performing number addition": an
LSTM(128) encoder reads a one-hot question ``(7, 12)`` ("123+45 " as characters), RepeatVector(4)
hands its last output to every answer step, an LSTM(128) decoder (``return_sequences``) and a
Dense(12, softmax) write the one-hot answer ``(4, 12)``. Adam, categorical cross-entropy,
batch 32, an epoch of 45000 samples (1407 steps). The data are random one-hot rows: the timing
does not depend on their content.

Both libraries run the same epoch in turns, after a warm-up epoch (Keras compiles its step in
it); the median of the timed epochs, the ratio minigrad / Keras of the medians and the range
of the ratio over the rounds are printed. Keras is skipped when it is not
importable (it is not a dependency of this project); it runs with ``KERAS_BACKEND=jax``.

    python benchmarks/bench_addition.py [--samples N] [--rounds R] [--profile]
"""

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "2")
os.environ.setdefault("KERAS_BACKEND", "jax")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad_layers as mgl  # noqa: E402

QUESTION, ANSWER, CHARS, UNITS, BATCH = 7, 4, 12, 128, 32


def one_hot_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random one-hot questions ``(N, 7, 12)`` and answers ``(N, 4, 12)``, float32."""
    rng = np.random.default_rng(seed)
    eye = np.eye(CHARS, dtype=np.float32)
    return eye[rng.integers(CHARS, size=(samples, QUESTION))], eye[
        rng.integers(CHARS, size=(samples, ANSWER))
    ]


def addition_model(lib):
    """The keras-io model, built with ``lib`` (``minigrad_layers`` or ``keras``)."""
    model = lib.Sequential(
        [
            lib.Input(shape=(QUESTION, CHARS)),
            lib.layers.LSTM(UNITS),
            lib.layers.RepeatVector(ANSWER),
            lib.layers.LSTM(UNITS, return_sequences=True),
            lib.layers.Dense(CHARS, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def epoch_runner(lib, x: np.ndarray, y: np.ndarray):
    model = addition_model(lib)

    def epoch():
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)

    return epoch, model


def import_keras():
    try:
        import keras
    except ImportError:
        return None
    return keras


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=45000, help="samples in an epoch")
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs of each library")
    parser.add_argument("--profile", action="store_true", help="cProfile one minigrad epoch")
    args = parser.parse_args()

    mg.set_floatx("float32")
    x, y = one_hot_data(args.samples)
    epochs = {"minigrad": epoch_runner(mgl, x, y)[0]}
    keras = import_keras()
    if keras is not None:
        epochs["keras"] = epoch_runner(keras, x, y)[0]
    steps = -(-args.samples // BATCH)
    print(f"addition RNN, {steps} steps an epoch; keras {keras.__version__ if keras else 'absent'}")
    times = {name: [] for name in epochs}
    for epoch in epochs.values():
        epoch()  # warm-up: compiles kernels (and Keras' step)
    for _ in range(args.rounds):
        for name, epoch in epochs.items():
            start = time.perf_counter()
            epoch()
            times[name].append(time.perf_counter() - start)
    for name, ts in times.items():
        print(f"{name:9} epoch {statistics.median(ts):7.2f} s  ({min(ts):.2f}..{max(ts):.2f})")
    if keras is not None:
        ratios = [a / b for a, b in zip(times["minigrad"], times["keras"], strict=True)]
        median = statistics.median(times["minigrad"]) / statistics.median(times["keras"])
        print(f"minigrad / keras: {median:.2f} (per round {min(ratios):.2f}..{max(ratios):.2f})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        epochs["minigrad"]()
        profiler.disable()
        print("\ncProfile of one minigrad epoch (sorted by own time):")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
