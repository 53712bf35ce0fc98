"""A whole ``.keras`` file of a trained model with Conv1D, pooling, BatchNormalization,
LayerNormalization and SpatialDropout1D loads in the real Keras 3: the configs use Keras 3's keys
and the weights (moving statistics included) its layout, so the predictions agree (float32)."""

import numpy as np
from keras3 import require_keras

import minigrad_layers as mgl


def test_a_trained_convolutional_model_loads_in_keras(tmp_path):
    keras = require_keras()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(8, 9, 3)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    model = mgl.Sequential(
        [
            mgl.Input((9, 3)),
            mgl.Conv1D(4, 3, padding="causal", activation="relu", kernel_regularizer="l2"),
            mgl.BatchNormalization(momentum=0.9),
            mgl.SpatialDropout1D(0.2),
            mgl.MaxPooling1D(2, padding="same"),
            mgl.LayerNormalization(axis=[1, 2]),
            mgl.AveragePooling1D(2, strides=1),
            mgl.Conv1D(4, 2, dilation_rate=2, padding="same", groups=2),
            mgl.GlobalAveragePooling1D(),
            mgl.Dense(2),
        ]
    )
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / "conv.keras")
    model.save(path)
    theirs = keras.saving.load_model(path)
    assert [type(layer).__name__ for layer in theirs.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    np.testing.assert_allclose(
        np.asarray(theirs.predict(x, verbose=0)), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
