# %% [markdown]
"""Translate dates written by people ("march 7, 1994", "07/03/1994") into ISO form ("1994-03-07")
with an encoder-decoder whose decoder attends to the encoder's outputs at every step.

The encoder reads the characters of the human date and returns one vector per character; the
decoder writes the ISO date one character at a time. At step t the decoder cell (Luong et al.
2015, "general" attention) runs an LSTM step on the previous character, then looks back at the
encoder::

    h_t, c_t  = LSTM(y_{t-1}, (h_{t-1}, c_{t-1}))          (B, H)
    e_ts      = enc_s . (W_a h_t)                          scores over the input, (B, S)
    a_t       = softmax(e_t)  (padding positions excluded) attention weights, (B, S)
    context_t = sum_s a_ts enc_s                           (B, H)
    out_t     = tanh(W_c [context_t; h_t])                 (B, H) -> Dense -> logits

The encoder's outputs ``enc (B, S, H)`` are the same at every decoder step: the RNN layer passes
them to the cell as ``constants`` (what constants are for), together with the padding mask of the
input. Training is teacher-forced (the decoder reads the true previous character); decoding is
greedy, calling the trained cell directly in a Python loop, which is the cell protocol at work:
``out, states = cell(x_t, states, constants=[enc, valid])``.

After training the model is saved as ``.keras`` (its two custom classes registered with
``mgl.saving.register_keras_serializable``), reloaded, and decodes the same. The attention map
of one date is printed (the input character each output character looked at most) and, with
``--plot``, drawn with matplotlib.

    python examples/08_seq2seq_attention.py [--quick] [--epochs N] [--plot attention.png]
"""

# %%
import argparse
import datetime
import tempfile
import time
from pathlib import Path

import numpy as np

import minigrad as mg
import minigrad_layers as mgl

FORMATS = ["%d %B %Y", "%B %d, %Y", "%d/%m/%Y", "%Y.%m.%d", "%d %b %Y", "%b %d %Y", "%A %d %B %Y"]
INPUT_CHARS = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789 ,./"))
OUTPUT_CHARS = list("0123456789-")
START = len(OUTPUT_CHARS)  # the decoder's first input: a "start" token after the characters
INPUT_LEN, OUTPUT_LEN = 28, 10  # longest human date ("wednesday 30 september 1987"), ISO date


# %%
# -- data ------------------------------------------------------------------------------------
def random_dates(count: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """``count`` pairs (human date, ISO date) between 1950 and 2049, in random formats."""
    first = datetime.date(1950, 1, 1).toordinal()
    days = rng.integers(0, 36525, size=count)
    formats = rng.integers(0, len(FORMATS), size=count)
    pairs = []
    for day, fmt in zip(days, formats, strict=True):
        date = datetime.date.fromordinal(first + int(day))
        pairs.append((date.strftime(FORMATS[fmt]).lower(), date.isoformat()))
    return pairs


def encode(pairs: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Character ids: the human dates ``(N, INPUT_LEN)`` (0 = padding, at the end), the decoder's
    inputs ``(N, OUTPUT_LEN)`` (the start token, then the ISO date shifted right by one) and its
    targets ``(N, OUTPUT_LEN)``."""
    source = np.zeros((len(pairs), INPUT_LEN), dtype=np.int64)
    target = np.zeros((len(pairs), OUTPUT_LEN), dtype=np.int64)
    for i, (human, iso) in enumerate(pairs):
        source[i, : len(human)] = [INPUT_CHARS.index(ch) + 1 for ch in human]
        target[i] = [OUTPUT_CHARS.index(ch) for ch in iso]
    decoder_input = np.concatenate([np.full((len(pairs), 1), START), target[:, :-1]], axis=1)
    return source, decoder_input, target


# %% [markdown]
# ## The decoder cell
# An LSTM step, then attention over the encoder's outputs ``enc (B, S, H)``, which the
# RNN layer hands to the cell at every step as ``constants``.


# %%
# -- the model -------------------------------------------------------------------------------
@mgl.saving.register_keras_serializable(package="dates")
class PaddingMask(mgl.Layer):
    """``ids (B, S) -> valid (B, S)``: 1.0 where there is a character, 0.0 at padding."""

    def call(self, ids):
        return mg.cast(mg.not_equal(ids, 0), "float32")


@mgl.saving.register_keras_serializable(package="dates")
class AttentionLSTMCell(mgl.Layer):
    """An LSTM cell that attends to constant encoder outputs (the equations in the module
    docstring). States ``[h, c]`` of ``units`` each; output ``out_t (B, units)``.

    Constants: ``[enc (B, S, units), valid (B, S)]``, the encoder outputs and the input's padding
    mask (1 = character). Weights: those of an ``LSTMCell``, ``attention_kernel W_a (units,
    units)`` and ``combine_kernel W_c (2 units, units)``.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]
        self.output_size = units
        self.lstm = mgl.LSTMCell(units)

    def build(self, input_shape):
        self.lstm.build(input_shape)
        self.attention_kernel = self.add_weight(name="attention_kernel", shape=(self.units,) * 2)
        self.combine_kernel = self.add_weight(
            name="combine_kernel", shape=(2 * self.units, self.units)
        )
        self.built = True

    def attend(self, h, enc, valid):
        """``(context (B, units), weights (B, S))`` for the decoder state ``h (B, units)``."""
        query = mg.matmul(h, self.attention_kernel)  # W_a h_t: (B, units)
        scores = mg.squeeze(mg.matmul(enc, mg.expand_dims(query, -1)), -1)  # (B, S)
        scores = scores + (valid - 1.0) * 1e9  # padding gets weight exp(-1e9) = 0
        weights = mg.softmax(scores, axis=-1)
        context = mg.squeeze(mg.matmul(mg.expand_dims(weights, 1), enc), 1)  # (B, units)
        return context, weights

    def call(self, inputs, states, constants):
        enc, valid = constants
        h, (h, c) = self.lstm(inputs, states)
        context, _ = self.attend(h, enc, valid)
        out = mg.tanh(mg.matmul(mg.concat([context, h], axis=-1), self.combine_kernel))
        return out, [h, c]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def build_model(units: int = 64) -> mgl.Model:
    """The encoder-decoder, trained teacher-forced: ``[source, decoder_input] -> logits``."""
    source = mgl.Input((INPUT_LEN,), dtype="int64", name="source")
    decoder_input = mgl.Input((OUTPUT_LEN,), dtype="int64", name="decoder_input")
    embedded = mgl.Embedding(len(INPUT_CHARS) + 1, 32, mask_zero=True, name="source_chars")(source)
    enc, h, c = mgl.LSTM(units, return_sequences=True, return_state=True, name="encoder")(embedded)
    valid = PaddingMask(name="padding_mask")(source)
    previous = mgl.Embedding(len(OUTPUT_CHARS) + 1, 16, name="previous_chars")(decoder_input)
    decoded = mgl.RNN(AttentionLSTMCell(units), return_sequences=True, name="decoder")(
        previous, initial_state=[h, c], constants=[enc, valid]
    )
    logits = mgl.Dense(len(OUTPUT_CHARS), name="next_char")(decoded)
    return mgl.Model([source, decoder_input], logits)


# %%
# -- greedy decoding with the trained cell -----------------------------------------------------
def decode(model: mgl.Model, source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding: the ISO dates ``(N, OUTPUT_LEN)`` as character ids, and the attention
    weights ``(N, OUTPUT_LEN, INPUT_LEN)`` of every output character over the input."""
    encoder, cell = model.get_layer("encoder"), model.get_layer("decoder").cell
    embed_previous, next_char = model.get_layer("previous_chars"), model.get_layer("next_char")
    embedded = model.get_layer("source_chars")(source)
    enc, h, c = encoder(embedded)
    valid = model.get_layer("padding_mask")(source)
    token = np.full(len(source), START)
    states, outputs, maps = [h, c], [], []
    for _ in range(OUTPUT_LEN):
        out, states = cell(embed_previous(token), states, constants=[enc, valid])
        maps.append(cell.attend(states[0], enc, valid)[1].numpy())
        token = next_char(out).numpy().argmax(-1)
        outputs.append(token)
    return np.stack(outputs, axis=1), np.stack(maps, axis=1)


def as_text(ids: np.ndarray) -> str:
    return "".join(OUTPUT_CHARS[i] for i in ids)


def attention_table(human: str, iso_ids: np.ndarray, weights: np.ndarray) -> str:
    """One line per output character: the input character it attended to most, and how much."""
    lines = []
    for ch, row in zip(as_text(iso_ids), weights, strict=True):
        s = int(row.argmax())
        lines.append(f"  {ch} <- {human[s]!r} at {s:2d} (weight {row[s]:.2f})")
    return "\n".join(lines)


def plot_attention(human: str, iso: str, weights: np.ndarray, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(0.35 * len(human) + 1.5, 0.35 * len(iso) + 1.5))
    ax.imshow(weights[:, : len(human)], cmap="viridis", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(len(human)), list(human))
    ax.set_yticks(range(len(iso)), list(iso))
    ax.set_xlabel("input character")
    ax.set_ylabel("output character")
    ax.set_title("attention weights a_ts")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# %%
def main(quick: bool = False, epochs: int | None = None, plot: str | None = None) -> dict:
    mgl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n_train, n_test = (1200, 100) if quick else (6000, 500)
    epochs = epochs or (4 if quick else 6)
    train_source, train_decoder_input, train_target = encode(random_dates(n_train, rng))
    test_pairs = random_dates(n_test, rng)
    test_source, test_decoder_input, test_target = encode(test_pairs)

    model = build_model(units=32 if quick else 64)
    model.compile(
        optimizer=mgl.optimizers.Adam(0.01),
        loss=mgl.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(
        [train_source, train_decoder_input],
        train_target,
        batch_size=64,
        epochs=epochs,
        validation_data=([test_source, test_decoder_input], test_target),
        verbose=0,
    )
    seconds = time.perf_counter() - start
    losses = history.history["loss"]
    print(f"trained {epochs} epochs in {seconds:.1f} s: loss {losses[0]:.3f} -> {losses[-1]:.3f}")

    decoded, maps = decode(model, test_source)
    exact = float(np.mean(np.all(decoded == test_target, axis=1)))
    print(f"greedy decoding, exact dates: {exact:.1%} of {n_test}")
    for (human, iso), ids in list(zip(test_pairs, decoded, strict=True))[:5]:
        print(f"  {human!r:32} -> {as_text(ids)}   (true {iso})")

    path = Path(tempfile.mkdtemp()) / "dates.keras"
    model.save(path)
    reloaded = mgl.models.load_model(path)
    again, _ = decode(reloaded, test_source)
    print(f"saved to {path.name}, reloaded: decodes the same: {np.array_equal(again, decoded)}")

    human = test_pairs[0][0]
    print(f"attention of {human!r}:")
    print(attention_table(human, decoded[0], maps[0]))
    if plot:
        plot_attention(human, as_text(decoded[0]), maps[0], plot)
        print(f"attention map written to {plot}")
    return {
        "losses": losses,
        "exact": exact,
        "maps": maps,
        "valid": test_source != 0,
        "reloaded_same": bool(np.array_equal(again, decoded)),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, in seconds")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--plot", default=None, help="draw the attention map to this PNG file")
    args = parser.parse_known_args()[0]
    main(quick=args.quick, epochs=args.epochs, plot=args.plot)
