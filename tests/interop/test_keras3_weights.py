"""``.weights.h5`` files move both ways between minigrad and the real Keras 3: the same model
built in each library, weights saved by one and loaded by the other, predictions equal (float32,
rtol 1e-5), masks included."""

import numpy as np
import pytest
from keras3 import require_keras

import minigrad_layers as mgl

rng = np.random.default_rng(11)


def _ids():
    ids = rng.integers(1, 20, size=(4, 7))
    ids[0, 4:] = 0  # padding, masked by mask_zero
    ids[2, 2:] = 0
    return ids


def _features():
    x = rng.normal(size=(4, 7, 3)).astype("float32")
    x[1, 5:] = 0.0  # masked by Masking
    return x


# name -> (builder taking a layers namespace and an Input function, input data factory)
MODELS = {
    "embedding_simple_rnn": (
        lambda L, I: [
            I((7,), "int32"),
            L.Embedding(20, 5, mask_zero=True),
            L.SimpleRNN(4),
            L.Dense(2),
        ],
        _ids,
    ),
    "masking_lstm_sequences": (
        lambda L, I: [I((7, 3)), L.Masking(), L.LSTM(4, return_sequences=True), L.Dense(2)],
        _features,
    ),
    "gru_reset_after": (
        lambda L, I: [I((7, 3)), L.GRU(4), L.Dropout(0.3), L.Dense(2)],
        _features,
    ),
    "gru_reset_before": (
        lambda L, I: [I((7, 3)), L.GRU(4, reset_after=False), L.Dense(2)],
        _features,
    ),
    "stacked_cells": (
        lambda L, I: [I((7, 3)), L.RNN([L.LSTMCell(4), L.GRUCell(3)]), L.Dense(2)],
        _features,
    ),
    "conv_pooling": (
        lambda L, I: [
            I((7, 3)),
            L.Conv1D(4, 3, padding="causal", activation="relu"),
            L.MaxPooling1D(2, padding="same"),
            L.Conv1D(3, 2, dilation_rate=2, padding="same"),
            L.AveragePooling1D(2, strides=1),
            L.GlobalMaxPooling1D(),
            L.Dense(2),
        ],
        _features,
    ),
    "normalization": (
        lambda L, I: [
            I((7, 3)),
            L.Conv1D(4, 2, padding="same", groups=1),
            L.BatchNormalization(),
            L.SpatialDropout1D(0.2),
            L.LayerNormalization(),
            L.Conv1D(2, 3, strides=2),
            L.GlobalAveragePooling1D(keepdims=True),
            L.Dense(2),
        ],
        _features,
    ),
    "embedding_batch_norm_masked_average": (
        lambda L, I: [
            I((7,), "int32"),
            L.Embedding(20, 5, mask_zero=True),
            L.BatchNormalization(center=False),
            L.GlobalAveragePooling1D(),
            L.Dense(2),
        ],
        _ids,
    ),
    **{
        f"bidirectional_{mode}": (
            lambda L, I, mode=mode: [
                I((7,), "int32"),
                L.Embedding(20, 5, mask_zero=True),
                L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=mode),
                L.GRU(2),
            ],
            _ids,
        )
        for mode in ("concat", "sum", "ave", "mul")
    },
}


def _keras_model(keras, name):
    def keras_input(shape, dtype="float32"):
        return keras.Input(shape, dtype=dtype)

    return keras.Sequential(MODELS[name][0](keras.layers, keras_input))


def _minigrad_model(name):
    def mgl_input(shape, dtype="float32"):
        return mgl.Input(shape, dtype=dtype)

    return mgl.Sequential(MODELS[name][0](mgl.layers, mgl_input))


@pytest.mark.parametrize("name", list(MODELS))
def test_weights_files_both_ways(name, tmp_path):
    """Keras 3's file loads into a minigrad model, then a second minigrad model's file (weights
    of its own) loads into the same Keras model: predictions equal each time."""
    keras = require_keras()
    x = MODELS[name][1]()
    theirs = _keras_model(keras, name)
    theirs.save_weights(str(tmp_path / "theirs.weights.h5"))
    ours = _minigrad_model(name)
    ours.load_weights(str(tmp_path / "theirs.weights.h5"))
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)), rtol=1e-5, atol=1e-6
    )
    other = _minigrad_model(name)
    other.save_weights(str(tmp_path / "ours.weights.h5"))
    theirs.load_weights(str(tmp_path / "ours.weights.h5"))
    np.testing.assert_allclose(
        np.asarray(theirs.predict(x, verbose=0)), other.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_functional_two_input_model_both_ways(tmp_path):
    keras = require_keras()

    def build(lib, layers):
        a, b = lib.Input((7, 3)), lib.Input((7, 3))
        _, h, c = layers.LSTM(4, return_state=True)(a)
        out = layers.LSTM(4)(b, initial_state=[h, c])
        return lib.Model([a, b], layers.Dense(2)(out))

    x = [_features(), _features()]
    ours, theirs = build(mgl, mgl.layers), build(keras, keras.layers)
    ours.save_weights(str(tmp_path / "a.weights.h5"))
    theirs.load_weights(str(tmp_path / "a.weights.h5"))
    np.testing.assert_allclose(
        np.asarray(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("name", list(MODELS))
def test_get_weights_lists_the_weights_in_keras_model_order(name):
    keras = require_keras()
    x = MODELS[name][1]()
    theirs, ours = _keras_model(keras, name), _minigrad_model(name)
    ours.set_weights(theirs.get_weights())  # layer by layer, moving statistics in place
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)), rtol=1e-5, atol=1e-6
    )
