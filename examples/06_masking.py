# %% [markdown]
"""Masking: padded variable-length sequences give exactly the answers of the unpadded ones.

The task: a sequence of 4 to ``max_len`` tokens drawn from {1, ..., 4}; is token 1 more frequent in
it than token 2? Sequences are right-padded with 0 to one length so that they fit in a batch:
``[3, 1, 4, 1, 2, 0, 0, 0]``. The model::

    ids (B, T) -> Embedding(mask_zero=True) -> Bidirectional(LSTM) -> Dense(1, sigmoid)

``Embedding(mask_zero=True)`` turns the padding into a mask ``ids != 0`` that the recurrent
layers obey: at a padded step the LSTM still runs but its result is discarded (the state and the
output keep their previous values), so padding cannot change the answer. The backward copy of
the Bidirectional layer reads the padding first, while its state is still the initial zeros.

The script trains this model with ``fit`` and shows, on the test sequences:

a) each padded sequence gets the same prediction as the same sequence with its padding trimmed
   off (fed alone: a batch of 1, no padding), to float precision, and more padding changes nothing;
b) the same model trained without the mask (``mask_zero=False``, padding read as a token) gives
   predictions that depend on how much padding there is, and its accuracy changes with it.

It runs as a script or, cell by cell (``# %%``), as a notebook.

    python examples/06_masking.py [--quick] [--epochs N]
"""

# %%
import argparse
import time

import numpy as np

import minigrad as mg
import minigrad_layers as mgl

TOKENS = 4  # real tokens are 1..TOKENS; 0 is padding

# %% [markdown]
# ## The data: padded to one length
# Sequences of 4 to ``max_len`` tokens from 1..4, right-padded with 0; the label is
# ``count(1) > count(2)``.


# %%
def make_data(n: int, max_len: int, rng: np.random.Generator) -> tuple[list, np.ndarray]:
    """``n`` sequences of random lengths in ``[4, max_len]`` and their labels
    ``count(1) > count(2)``."""
    lengths = rng.integers(4, max_len + 1, size=n)
    sequences = [rng.integers(1, TOKENS + 1, size=length) for length in lengths]
    labels = np.array([np.sum(s == 1) > np.sum(s == 2) for s in sequences], dtype=np.float32)
    return sequences, labels


def pad(sequences: list, length: int) -> np.ndarray:
    """Right-pad with 0 to ``length``: ``(N, length)`` int ids."""
    out = np.zeros((len(sequences), length), dtype=np.int64)
    for row, s in zip(out, sequences, strict=True):
        row[: len(s)] = s
    return out


# %% [markdown]
# ## The model, and the mask it carries
# ``Embedding(mask_zero=True)`` gives the mask ``m_t = (ids_t != 0)``; at a masked step the
# LSTM keeps what it had:
#
#     h_t = m_t h'_t + (1 - m_t) h_{t-1},   c_t = m_t c'_t + (1 - m_t) c_{t-1}
#
# (``h'_t, c'_t`` the step's own results), so padding cannot change the answer.


# %%
def build_model(mask_zero: bool, units: int) -> mgl.Sequential:
    return mgl.Sequential(
        [
            mgl.Embedding(TOKENS + 1, 8, mask_zero=mask_zero),
            mgl.Bidirectional(mgl.LSTM(units)),  # (B, 2 units): both directions' last outputs
            mgl.Dense(1, activation="sigmoid"),  # P(more 1s than 2s)
        ]
    )


def one_at_a_time(model: mgl.Sequential, sequences: list) -> np.ndarray:
    """Predictions for each sequence fed alone, without padding (a batch of 1)."""
    return np.array([model.predict(s[None, :], batch_size=1)[0, 0] for s in sequences])


def accuracy(p: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((p > 0.5) == (labels > 0.5)))


# %% [markdown]
# ## With and without the mask
# Both models start from the same weights and see the same batches; only the mask
# differs. Their test predictions are compared padded, unpadded and padded three times
# as long.


# %%
def main(quick: bool = False, epochs: int | None = None, units: int | None = None) -> dict:
    """Train the two models, print the comparison; returns the numbers of the table."""
    mg.random.seed(0)
    mgl.clear_session()
    rng = mg.random.generator()
    if quick:
        n_train, n_test, max_len, epochs, units = 256, 32, 12, epochs or 1, units or 8
    else:
        n_train, n_test, max_len, epochs, units = 4000, 200, 20, epochs or 12, units or 32
    train_seqs, y_train = make_data(n_train, max_len, rng)
    test_seqs, y_test = make_data(n_test, max_len, rng)
    x_train, x_test = pad(train_seqs, max_len), pad(test_seqs, max_len)
    x_test_long = pad(test_seqs, 3 * max_len)  # the same sequences with much more padding
    print(
        f"{n_train} training sequences of 4 to {max_len} tokens from 1..{TOKENS}, right-padded "
        f"with 0 to {max_len}; label: more 1s than 2s ({y_train.mean():.0%} of them)"
    )
    print(f"e.g. {x_train[0].tolist()} -> {int(y_train[0])}\n")

    results = {}
    for mask_zero in (True, False):
        name = "masked" if mask_zero else "no mask"
        print(f"Training with Embedding(mask_zero={mask_zero}):")
        started = time.perf_counter()
        mg.random.seed(
            1
        )  # both models: the same initial weights and batches, only the mask differs
        model = build_model(mask_zero, units)
        model.compile(
            optimizer=mgl.optimizers.Adam(learning_rate=0.01, clipnorm=1.0),
            loss="binary_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=2)
        padded = model.predict(x_test, batch_size=64)[:, 0]
        longer = model.predict(x_test_long, batch_size=64)[:, 0]
        alone = one_at_a_time(model, test_seqs)
        results[name] = {
            "accuracy padded": accuracy(padded, y_test),
            "accuracy alone": accuracy(alone, y_test),
            "accuracy padded x3": accuracy(longer, y_test),
            "max diff alone": float(np.abs(padded - alone).max()),
            "max diff padded x3": float(np.abs(padded - longer).max()),
            "predictions": (padded, alone, longer),
        }
        print(f"  ({time.perf_counter() - started:.1f} s)\n")

    rows = [
        ("test accuracy, padded to the training length", "accuracy padded", "{:.3f}"),
        ("test accuracy, each sequence alone, unpadded", "accuracy alone", "{:.3f}"),
        (f"test accuracy, padded to {3 * max_len}", "accuracy padded x3", "{:.3f}"),
        ("max |p(padded) - p(alone, unpadded)|", "max diff alone", "{:.1e}"),
        (f"max |p(padded) - p(padded to {3 * max_len})|", "max diff padded x3", "{:.1e}"),
    ]
    print(f"{n_test} test sequences{'':34}masked    no mask")
    for label, key, fmt in rows:
        values = [fmt.format(results[name][key]) for name in ("masked", "no mask")]
        print(f"  {label:<50}{values[0]:>8}   {values[1]:>8}")
    worst = int(np.argmax(np.abs(np.subtract(*results["no mask"]["predictions"][:2]))))
    print(
        f"\nThe test sequence whose prediction padding moves most without the mask "
        f"(label {int(y_test[worst])}):\n  {test_seqs[worst].tolist()}"
    )
    columns = (f"padded to {max_len}", "alone, unpadded", f"padded to {3 * max_len}")
    print(" " * 24 + "".join(f"{c:>17}" for c in columns))
    for name in ("masked", "no mask"):
        values = "".join(f"{p[worst]:>17.6f}" for p in results[name]["predictions"])
        print(f"  P(label 1), {name:<10}{values}")
    masked = results["masked"]
    print(
        "\nWith the mask, padding changes nothing: padded, unpadded and extra-padded predictions "
        f"differ by at most {max(masked['max diff alone'], masked['max diff padded x3']):.1e}."
        "\nWithout it, the padding is read as a token and every prediction depends on how much "
        "of it there is."
    )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, for the test suite")
    parser.add_argument("--epochs", type=int, help="training epochs (default 12)")
    parser.add_argument("--units", type=int, help="LSTM units in each direction (default 32)")
    args = parser.parse_known_args()[0]
    main(quick=args.quick, epochs=args.epochs, units=args.units)
