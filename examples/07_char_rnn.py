# %% [markdown]
"""A character-level language model of the Book of Genesis: it learns to write King James English.

The text (``examples/data/genesis_kjv.txt``, one verse per line) is cut into windows of
``seq_len`` characters (overlapping: one starts every ``seq_len / 5`` characters); the target of
every character is the one that follows it. The last 5% of the book is held out for validation.
The model reads characters and predicts the next one at every step::

    ids (B, T) -> Embedding -> (B, T, E) -> LSTM(return_sequences=True) -> (B, T, H)
               -> Dense(vocab) -> logits (B, T, vocab)

trained by ``model.fit`` with ``SparseCategoricalCrossentropy(from_logits=True)``, Adam and
gradient clipping (``global_clipnorm``); the learning rate decays linearly to a tenth of its start
over the run. After training the weights are saved with ``save_weights`` and loaded into a fresh
model, which predicts exactly the same. Then a stateful copy (a batch of one, ``stateful=True``)
loads them too and writes text one character at a time after a prompt, at a few temperatures: a
low temperature picks the likeliest characters, a higher one takes more risks.

The default run trains for about a minute and a half on 2 cores and prints the loss, the wall
time and the samples. ``--epochs`` and ``--minutes`` scale it (training stops at whichever limit
comes first; the learning rate then decays over the time limit).

It runs as a script or, cell by cell (``# %%``), as a notebook.

    python examples/07_char_rnn.py [--quick] [--epochs N] [--minutes M] [--cell lstm|gru]
        [--units H] [--seq-len T] [--batch-size B] [--learning-rate LR] [--prompt TEXT]
        [--out char_rnn.weights.h5]
"""

# %%
import argparse
import time
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad_layers as mgl

# A notebook has no __file__; it runs in the folder of the example.
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
DATA = HERE / "data" / "genesis_kjv.txt"
TEMPERATURES = (0.5, 0.8, 1.0)

# %% [markdown]
# ## The text as windows of characters
# Every window ``x (N, T)`` of character ids comes with its target shifted by one,
# ``y[:, t] = x[:, t + 1]``: the model predicts the next character at every step.


# %%
def load_corpus(path: Path, limit: int | None = None) -> tuple[np.ndarray, list[str]]:
    """The text as an array of character ids, and the characters (id -> character)."""
    text = path.read_text(encoding="utf-8")
    if limit is not None:
        text = text[:limit]
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    return np.array([index[c] for c in text], dtype=np.int64), chars


def make_sequences(
    ids: np.ndarray, seq_len: int, stride: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Windows ``x (N, T)`` of ``seq_len`` characters starting every ``stride`` characters
    (default ``seq_len``: no overlap), and their next characters ``y (N, T)``."""
    stride = stride or seq_len
    starts = np.arange(0, len(ids) - seq_len, stride)  # each window and its target fit
    window = starts[:, None] + np.arange(seq_len)  # (N, T) positions in the text
    return ids[window], ids[window + 1]  # y[:, t] = x[:, t + 1]


# %% [markdown]
# ## The model
# ``ids (B, T) -> Embedding -> LSTM or GRU (every step) -> Dense -> logits (B, T, vocab)``;
# the sampling copy is the same with ``stateful=True`` and a batch of one.


# %%
def build_model(
    vocab: int, embed_dim: int, units: int, cell: str = "lstm", stateful: bool = False
) -> mgl.Sequential:
    """Embedding -> LSTM or GRU (every step's output) -> Dense logits over the vocabulary.

    ``stateful=True`` gives the sampling model: a batch of one, whose recurrent state is carried
    from one call to the next, so text can be fed one character at a time."""
    recurrent = {"lstm": mgl.LSTM, "gru": mgl.GRU}[cell]
    shape = {"batch_input_shape": (1, None)} if stateful else {}
    return mgl.Sequential(
        [
            mgl.Embedding(vocab, embed_dim, **shape),
            recurrent(units, return_sequences=True, stateful=stateful),
            mgl.Dense(vocab),
        ]
    )


# %% [markdown]
# ## A learning rate that decays linearly
# ``lr = lr_0 (1 - 0.9 progress)``, progress the fraction of the planned steps (or of
# the time limit) done, from ``lr_0`` down to a tenth of it.


# %%
class Schedule(mgl.callbacks.Callback):
    """Lowers the learning rate linearly from its start to ``final_fraction`` of it over the
    planned number of steps and, when ``seconds`` is given, over that time if it runs out first
    (whichever is further along), stopping training once it has."""

    def __init__(self, total_steps: int, seconds: float | None, final_fraction: float = 0.1):
        super().__init__()
        self.total_steps = total_steps
        self.seconds = seconds
        self.final_fraction = final_fraction

    def on_train_begin(self, logs=None) -> None:
        self.start = time.perf_counter()
        self.initial_rate = self.model.optimizer.learning_rate
        self.steps = 0
        self.out_of_time = False

    def on_batch_end(self, batch: int, logs=None) -> None:
        self.steps += 1
        progress = min(1.0, self.steps / self.total_steps)
        if self.seconds is not None:
            elapsed = time.perf_counter() - self.start
            progress = max(progress, min(1.0, elapsed / self.seconds))
            if elapsed >= self.seconds:
                self.out_of_time = True
                self.model.stop_training = True
        fraction = 1.0 - (1.0 - self.final_fraction) * progress
        self.model.optimizer.learning_rate = self.initial_rate * fraction


# %% [markdown]
# ## Sampling one character at a time
# The next character is drawn from ``p = softmax(logits / temperature)``: a low
# temperature picks the likeliest characters, a high one takes more risks.


# %%
def sample(
    sampler: mgl.Sequential,
    prompt: str,
    length: int,
    temperature: float,
    chars: list[str],
    rng: np.random.Generator,
) -> str:
    """``prompt`` followed by ``length`` characters drawn one at a time from the model.

    The prompt is read in one call; then each drawn character is fed back as a sequence of one
    step, the stateful LSTM carrying its state from call to call. The next character is drawn
    from ``softmax(logits / temperature)``."""
    index = {c: i for i, c in enumerate(chars)}
    sampler.reset_states()
    logits = sampler.predict(np.array([[index[c] for c in prompt]]), batch_size=1)[0, -1]
    out = []
    for _ in range(length):
        z = logits.astype(np.float64) / temperature
        p = np.exp(z - z.max())
        next_id = rng.choice(len(chars), p=p / p.sum())
        out.append(chars[next_id])
        logits = sampler.predict(np.array([[next_id]]), batch_size=1)[0, -1]
    return prompt + "".join(out)


# %%
# Sizes of the default run (about a minute and a half on 2 cores) and of the quick one (seconds).
DEFAULT = dict(epochs=10, units=128, embed_dim=64, seq_len=100, stride=20, batch_size=64)
QUICK = dict(epochs=1, units=32, embed_dim=16, seq_len=32, stride=32, batch_size=32)
QUICK_TEXT = 6_000  # characters: the first verses


def main(
    quick: bool = False,
    epochs: int | None = None,
    minutes: float | None = None,
    cell: str = "lstm",
    units: int | None = None,
    seq_len: int | None = None,
    batch_size: int | None = None,
    learning_rate: float = 0.02,
    prompt: str = "And God said",
    sample_length: int | None = None,
    out: str | Path = "char_rnn.weights.h5",
) -> dict:
    """Train, report, save and reload, sample. Returns the numbers and texts it prints."""
    mg.random.seed(0)
    mgl.clear_session()
    started = time.perf_counter()
    sizes = dict(QUICK if quick else DEFAULT)
    given = dict(epochs=epochs, units=units, seq_len=seq_len, batch_size=batch_size)
    sizes.update({key: value for key, value in given.items() if value is not None})
    if seq_len is not None:
        sizes["stride"] = max(1, seq_len // 5)
    sample_length = sample_length or (60 if quick else 400)

    ids, chars = load_corpus(DATA, QUICK_TEXT if quick else None)
    unknown = sorted(set(prompt) - set(chars))
    if unknown:
        raise ValueError(f"The prompt {prompt!r} uses characters not in the text: {unknown}")
    split = len(ids) - len(ids) // 20  # the last 5% of the book is never trained on
    seq_len, batch_size = sizes["seq_len"], sizes["batch_size"]
    x_train, y_train = make_sequences(ids[:split], seq_len, sizes["stride"])
    x_val, y_val = make_sequences(ids[split:], seq_len)
    print(
        f"Text: {len(ids):,} characters, {len(chars)} distinct. Training on the first "
        f"{split:,}: {len(x_train):,} windows of {seq_len} characters, one starting every "
        f"{sizes['stride']}; validation on the last {len(ids) - split:,} ({len(x_val)} windows)"
    )

    embed_dim, units = sizes["embed_dim"], sizes["units"]
    model = build_model(len(chars), embed_dim, units, cell)
    model.compile(
        optimizer=mgl.optimizers.Adam(learning_rate=learning_rate, global_clipnorm=5.0),
        loss=mgl.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    epochs = sizes["epochs"]
    print(
        f"Model: Embedding({len(chars)}, {embed_dim}) -> {cell.upper()}({units}) -> "
        f"Dense({len(chars)}), {model.count_params():,} weights. Adam, learning rate "
        f"{learning_rate} decaying to {learning_rate / 10:g}, global_clipnorm 5; batches of "
        f"{batch_size}, {epochs} epoch(s)" + (f", at most {minutes} minutes" if minutes else "")
    )
    steps_per_epoch = -(-len(x_train) // batch_size)
    schedule = Schedule(epochs * steps_per_epoch, None if minutes is None else 60 * minutes)
    train_start = time.perf_counter()
    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[schedule],
    )
    train_seconds = time.perf_counter() - train_start
    loss, val_loss = history.history["loss"][-1], history.history["val_loss"][-1]
    stopped = ", stopped by the time limit" if schedule.out_of_time else ""
    print(
        f"Trained {schedule.steps} step{'s' * (schedule.steps != 1)} "
        f"({len(history.history['loss'])} epoch(s){stopped}) in {train_seconds:.1f} s: "
        f"{schedule.steps * batch_size * seq_len / train_seconds:,.0f} characters/s"
    )
    print(
        f"Final loss: {loss:.4f} (training, last epoch), {val_loss:.4f} (validation), in nats "
        f"per character; guessing uniformly would score {np.log(len(chars)):.2f}"
    )

    path = Path(out)
    model.save_weights(path)
    fresh = build_model(len(chars), embed_dim, units, cell)
    fresh.load_weights(path)
    probe = x_val[:8]
    difference = float(np.abs(fresh.predict(probe) - model.predict(probe)).max())
    print(
        f"Saved the weights to {path}; a fresh model loaded from the file predicts the same: "
        f"max |difference| = {difference:.1e}"
    )

    sampler = build_model(len(chars), embed_dim, units, cell, stateful=True)
    sampler.load_weights(path)
    rng = mg.random.generator()
    samples = {}
    print(f"\nSamples of {sample_length} characters after the prompt {prompt!r}:")
    for temperature in TEMPERATURES:
        samples[temperature] = sample(sampler, prompt, sample_length, temperature, chars, rng)
        print(f"\n--- temperature {temperature} ---\n{samples[temperature]}")
    print(f"\nWall time: {time.perf_counter() - started:.1f} s")
    return {
        "model": model,
        "chars": chars,
        "sizes": (embed_dim, units, cell),
        "loss": loss,
        "val_loss": val_loss,
        "reload_difference": difference,
        "samples": samples,
        "weights": path,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny model, for the test suite")
    parser.add_argument(
        "--epochs", type=int, help=f"passes over the text (default {DEFAULT['epochs']})"
    )
    parser.add_argument("--minutes", type=float, help="stop training after this many minutes")
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--units", type=int, help=f"recurrent units (default {DEFAULT['units']})")
    parser.add_argument("--seq-len", type=int, help=f"window length (default {DEFAULT['seq_len']})")
    parser.add_argument("--batch-size", type=int, help=f"default {DEFAULT['batch_size']}")
    parser.add_argument("--learning-rate", type=float, default=0.02)
    parser.add_argument("--prompt", default="And God said", help="the text samples start from")
    parser.add_argument("--out", default="char_rnn.weights.h5", help="where to save the weights")
    args = parser.parse_known_args()[0]
    main(
        quick=args.quick,
        epochs=args.epochs,
        minutes=args.minutes,
        cell=args.cell,
        units=args.units,
        seq_len=args.seq_len,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        prompt=args.prompt,
        out=args.out,
    )
