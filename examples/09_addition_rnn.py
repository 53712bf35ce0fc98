# %% [markdown]
"""Learn to add: the model reads "535+61" one character at a time and writes "596".

The task and the model are those of Keras' classic addition example (written here anew with
``mgl`` in place of ``keras``): questions ``a+b`` with numbers of 1 to ``DIGITS`` digits, padded
with spaces to ``2 DIGITS + 1`` characters and reversed (which shortens the dependencies between
the digits that are added), one-hot encoded as bool arrays; answers padded to ``DIGITS + 1``::

    x (N, 7, 12) -> LSTM(128) -> (N, 128) -> RepeatVector(4) -> (N, 4, 128)
                 -> LSTM(128, return_sequences=True) -> Dense(12, softmax) -> (N, 4, 12)

The encoder LSTM reads the question into one vector, ``RepeatVector`` hands that vector to the
decoder at each of the answer's steps, and the softmax ``Dense`` (applied at every step) picks
the answer's characters. Trained with Adam, categorical cross-entropy and batches of 32 on 45,000
questions (5,000 held out), it passes 99% validation accuracy (per character) within 30 epochs;
each epoch prints a few validation questions with the model's answers.

    python examples/09_addition_rnn.py [--quick] [--epochs N] [--digits D]
"""

# %%
import argparse
import time

import numpy as np

import minigrad_layers as mgl

CHARS = "0123456789+ "


# %%
class CharacterTable:
    """One-hot encoding of strings over ``chars``, and back."""

    def __init__(self, chars: str):
        self.chars = sorted(set(chars))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str, rows: int) -> np.ndarray:
        """``(rows, len(chars))`` bool: row i is the one-hot code of ``text[i]``."""
        x = np.zeros((rows, len(self.chars)), dtype=bool)
        x[np.arange(len(text)), [self.index[c] for c in text]] = True
        return x

    def decode(self, x: np.ndarray, from_scores: bool = True) -> str:
        """The string of one-hot rows or scores (or of character ids with ``from_scores=False``)."""
        ids = x.argmax(axis=-1) if from_scores else x
        return "".join(self.chars[i] for i in ids)


def random_number(digits: int, rng: np.random.Generator) -> int:
    """A number of 1 to ``digits`` digits (each length equally likely, leading zeros allowed)."""
    return int("".join(rng.choice(list("0123456789"), rng.integers(1, digits + 1))))


def make_questions(count: int, digits: int, rng: np.random.Generator) -> tuple[list, list]:
    """``count`` distinct questions (reversed, padded) and their answers (padded)."""
    width = 2 * digits + 1
    questions, answers, seen = [], [], set()
    while len(questions) < count:
        a, b = (random_number(digits, rng) for _ in "ab")
        key = tuple(sorted((a, b)))  # a+b and b+a are the same question
        if key in seen:
            continue
        seen.add(key)
        questions.append(f"{a}+{b}".ljust(width)[::-1])
        answers.append(str(a + b).ljust(digits + 1))
    return questions, answers


# %% [markdown]
# ## The model
# The encoder LSTM reads the reversed question into one vector; ``RepeatVector`` gives
# it to the decoder LSTM at each of the answer's steps, and ``Dense(softmax)`` picks
# a character at every step.


# %%
def build_model(digits: int, units: int = 128) -> mgl.Sequential:
    model = mgl.Sequential()
    model.add(mgl.layers.LSTM(units, input_shape=(2 * digits + 1, len(CHARS))))
    model.add(mgl.layers.RepeatVector(digits + 1))
    model.add(mgl.layers.LSTM(units, return_sequences=True))
    model.add(mgl.layers.Dense(len(CHARS), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


# %%
def main(quick: bool = False, epochs: int | None = None, digits: int = 3) -> dict:
    mgl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    size, epochs = (3000, epochs or 2) if quick else (50000, epochs or 30)
    table = CharacterTable(CHARS)
    questions, answers = make_questions(size, digits, rng)
    x = np.stack([table.encode(q, 2 * digits + 1) for q in questions])
    y = np.stack([table.encode(a, digits + 1) for a in answers])
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    split = len(x) - len(x) // 10
    (x_train, x_val), (y_train, y_val) = (x[:split], x[split:]), (y[:split], y[split:])
    print(f"{len(x_train)} training and {len(x_val)} validation questions of {digits} digits")

    model = build_model(digits, units=32 if quick else 128)
    model.summary()
    accuracies, start = [], time.perf_counter()
    for epoch in range(1, epochs + 1):
        history = model.fit(
            x_train, y_train, batch_size=32, epochs=1, validation_data=(x_val, y_val), verbose=0
        )
        accuracies.append(history.history["val_accuracy"][-1])
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch}: validation accuracy {accuracies[-1]:.4f} ({elapsed:.0f} s)")
        for i in rng.integers(0, len(x_val), size=3):
            guess = table.decode(model.predict(x_val[i : i + 1], verbose=0)[0])
            truth = table.decode(y_val[i])
            mark = "ok" if guess == truth else "wrong"
            print(f"  {table.decode(x_val[i])[::-1]} = {guess}  (true {truth}, {mark})")
        if not quick and accuracies[-1] >= 0.99:
            print(f"99% validation accuracy after {epoch} epochs")
            break
    return {"val_accuracy": accuracies, "seconds": time.perf_counter() - start}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, in seconds")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--digits", type=int, default=3)
    args = parser.parse_known_args()[0]
    main(quick=args.quick, epochs=args.epochs, digits=args.digits)
