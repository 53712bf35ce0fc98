"""One model holding every layer class of ``mgl.layers``: saved to ``.keras`` and reloaded, it
predicts exactly the same and resumes training exactly as the original goes on."""

import numpy as np

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers import layers

STEPS, VOCAB = 6, 12
rng = np.random.default_rng(0)


@mgl.saving.register_keras_serializable(package="EveryLayer")
def halve(x):
    return x * 0.5


def build_every_layer_model() -> mgl.Model:
    ids = layers.Input((STEPS,), dtype="int32", name="ids")
    series = layers.Input((STEPS, 3), name="series")

    # a masked branch: the mask of the padded ids travels through the recurrent layers
    embedded = layers.Embedding(VOCAB, 8, mask_zero=True)(ids)
    embedded = layers.SpatialDropout1D(0.1)(embedded)
    sequence = layers.LSTM(8, return_sequences=True)(embedded)
    sequence = layers.LayerNormalization()(sequence)
    sequence = layers.TimeDistributed(layers.Dense(8))(sequence)
    attended = layers.Attention(use_scale=True)([sequence, sequence])
    additive = layers.AdditiveAttention()([sequence, attended])
    stacked = layers.RNN(
        layers.StackedRNNCells([layers.SimpleRNNCell(6), layers.GRUCell(6)]),
        return_sequences=True,
    )(additive)
    masked_mean = layers.GlobalAveragePooling1D()(stacked)

    # an unmasked branch over the float series
    hidden = layers.Masking(mask_value=0.0)(series)
    hidden = layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode="concat")(hidden)
    hidden = layers.SimpleRNN(8, return_sequences=True)(hidden)
    hidden = layers.Lambda(halve)(hidden)
    hidden = layers.BatchNormalization()(hidden)
    hidden = layers.Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu")(hidden)
    hidden = layers.MaxPooling1D(2)(hidden)
    hidden = layers.AveragePooling1D(1)(hidden)
    hidden = layers.Permute((2, 1))(hidden)  # (B, 8, 3)
    hidden = layers.Reshape((3, 8))(hidden)
    peak = layers.GlobalMaxPooling1D()(hidden)
    flat = layers.Dense(8)(layers.Flatten()(hidden))

    joined = layers.Add()([layers.Dense(8)(masked_mean), flat])
    mixed = layers.Multiply()([joined, peak])
    mean = layers.Average()([mixed, joined])
    score = layers.Dot(axes=1)([mean, peak])
    both = layers.Concatenate()([mean, score])
    both = layers.Dropout(0.2)(layers.Activation("tanh")(both))
    repeated = layers.RepeatVector(2)(both)
    out = layers.Dense(2)(layers.Flatten()(repeated))
    return mgl.Model([ids, series], out, name="every_layer")


def test_the_model_holds_every_layer_class():
    model = build_every_layer_model()
    used = {type(layer).__name__ for layer in _all_layers(model)}
    every = {
        name
        for name in mgl.layers.__all__
        if isinstance(getattr(mgl.layers, name), type) and name not in {"Layer", "InputLayer"}
    }
    assert every - used == set()


def _all_layers(model):
    for layer in model.layers:
        yield layer
        inner = getattr(layer, "layer", None) or getattr(layer, "forward_layer", None)
        if inner is not None:
            yield inner
        cell = getattr(layer, "cell", None)
        if cell is not None:
            yield cell
            yield from getattr(cell, "cells", [])


def test_saved_and_reloaded_it_predicts_and_trains_on_identically(tmp_path):
    mgl.utils.set_random_seed(1)
    model = build_every_layer_model()
    model.compile(optimizer=mgl.optimizers.Adam(0.01), loss="mse")
    ids = rng.integers(1, VOCAB, (16, STEPS))
    ids[:4, -2:] = 0  # padding, masked
    series = rng.normal(size=(16, STEPS, 3)).astype(np.float32)
    y = rng.normal(size=(16, 2)).astype(np.float32)
    model.fit([ids, series], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "every.keras")
    reloaded = mgl.models.load_model(tmp_path / "every.keras")
    np.testing.assert_array_equal(
        model.predict([ids, series], verbose=0), reloaded.predict([ids, series], verbose=0)
    )
    mg.random.seed(5)
    going_on = model.fit([ids, series], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    mg.random.seed(5)  # the same dropout draws on both
    resumed = reloaded.fit([ids, series], y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert going_on.history["loss"] == resumed.history["loss"]
    for a, b in zip(model.get_weights(), reloaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
