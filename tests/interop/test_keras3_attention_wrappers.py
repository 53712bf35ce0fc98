"""Attention, AdditiveAttention and TimeDistributed against the real Keras 3: the same model
built in each library, ``.weights.h5`` saved by one and loaded by the other, predictions equal
(float32), masks included."""

import numpy as np
import pytest
from keras3 import require_keras

import minigrad_layers as mgl

rng = np.random.default_rng(12)


def _ids(steps):
    ids = rng.integers(1, 20, size=(4, steps))
    ids[0, steps - 2 :] = 0  # padding, masked by mask_zero
    ids[2, 1:] = 0
    return ids


def _attention_model(lib, layers, attention):
    """Queries and values embedded with mask_zero, so both masks reach the attention."""
    queries, values = lib.Input((5,), dtype="int32"), lib.Input((6,), dtype="int32")
    embed = layers.Embedding(20, 4, mask_zero=True)
    attended = attention(layers)([embed(queries), embed(values)])
    return lib.Model([queries, values], layers.Dense(2)(layers.LSTM(3)(attended)))


ATTENTIONS = {
    "dot_scaled": lambda L: L.Attention(use_scale=True),
    "concat": lambda L: L.Attention(use_scale=True, score_mode="concat"),
    "additive": lambda L: L.AdditiveAttention(),
}


@pytest.mark.parametrize("name", list(ATTENTIONS))
def test_attention_both_ways(name, tmp_path):
    keras = require_keras()
    ours = _attention_model(mgl, mgl.layers, ATTENTIONS[name])
    theirs = _attention_model(keras, keras.layers, ATTENTIONS[name])
    for variable in theirs.weights:  # move the scalar weights away from 1
        if variable.shape == ():
            variable.assign(0.7)
    theirs.save_weights(str(tmp_path / "theirs.weights.h5"))
    ours.load_weights(str(tmp_path / "theirs.weights.h5"))
    x = [_ids(5), _ids(6)]
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)), rtol=1e-5, atol=1e-6
    )
    ours.save_weights(str(tmp_path / "ours.weights.h5"))
    theirs.load_weights(str(tmp_path / "ours.weights.h5"))


def test_time_distributed_both_ways(tmp_path):
    keras = require_keras()

    def build(lib, layers):
        return lib.Sequential(
            [
                lib.Input((7, 3)),
                layers.Masking(),
                layers.TimeDistributed(layers.Dense(4, activation="tanh")),
                layers.LSTM(3),
                layers.Dense(2),
            ]
        )

    x = rng.normal(size=(4, 7, 3)).astype("float32")
    x[1, 4:] = 0.0  # masked steps: the mask passes through TimeDistributed to the LSTM
    ours, theirs = build(mgl, mgl.layers), build(keras, keras.layers)
    ours.save_weights(str(tmp_path / "ours.weights.h5"))
    theirs.load_weights(str(tmp_path / "ours.weights.h5"))
    np.testing.assert_allclose(
        np.asarray(theirs.predict(x, verbose=0)), ours.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    theirs.save_weights(str(tmp_path / "theirs.weights.h5"))
    ours.load_weights(str(tmp_path / "theirs.weights.h5"))
    np.testing.assert_allclose(
        ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)), rtol=1e-5, atol=1e-6
    )
