"""Whole ``.keras`` model files move both ways between minigrad and the real Keras 3: a model
trained one step and saved by one library is loaded by the other from the file alone (no code
of the model), predicts the same (float32, rtol 1e-5) and has the same optimizer step count."""

import numpy as np
import pytest
from keras3 import require_keras

import minigrad_layers as mgl

rng = np.random.default_rng(5)


def _ids():
    ids = rng.integers(1, 12, size=(4, 6))
    ids[0, 3:] = 0
    return ids


# name -> (a builder of (inputs, outputs) from a layers namespace and an Input function, inputs)
MODELS = {
    "stacked_lstm": (
        lambda L, I: (x := I((6, 3)), L.Dense(1)(L.LSTM(2)(L.LSTM(4, return_sequences=True)(x)))),
        lambda: rng.normal(size=(4, 6, 3)).astype("float32"),
    ),
    "embedding_bidirectional_gru": (
        lambda L, I: (
            x := I((6,), "int32"),
            L.Dense(2)(L.Bidirectional(L.GRU(3))(L.Embedding(12, 4)(x))),
        ),
        _ids,
    ),
    "shared_layer_two_outputs": (
        lambda L, I: (
            x := I((3,)),
            [
                (shared := L.Dense(3, name="shared"))(L.Dense(3)(shared(x))),
                L.Dense(1, name="other")(x),
            ],
        ),
        lambda: rng.normal(size=(4, 3)).astype("float32"),
    ),
    "stacked_cells": (
        lambda L, I: (x := I((5, 2)), L.RNN([L.GRUCell(3), L.LSTMCell(2)])(x)),
        lambda: rng.normal(size=(4, 5, 2)).astype("float32"),
    ),
    "masked_embedding_lstm": (
        lambda L, I: (
            x := I((6,), "int32"),
            L.Dense(2)(L.LSTM(3)(L.Embedding(12, 4, mask_zero=True)(x))),
        ),
        _ids,
    ),
    "two_inputs": (
        lambda L, I: (
            xs := [I((3,)), I((2,))],
            L.Dense(1, activation="sigmoid")(L.Concatenate()([L.Dense(4)(xs[0]), xs[1]])),
        ),
        lambda: [rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 2))],
    ),
}


def _as_list(outputs):
    return [np.asarray(o) for o in outputs] if isinstance(outputs, list) else [np.asarray(outputs)]


def _train_one_step(model, x):
    model.compile(optimizer="adam", loss="mse")
    targets = [np.zeros_like(o) for o in _as_list(model.predict(x, verbose=0))]
    model.fit(x, targets if len(targets) > 1 else targets[0], batch_size=4, epochs=1, verbose=0)


def _assert_same(a, b):
    a, b = _as_list(a), _as_list(b)
    assert len(a) == len(b)
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_allclose(pa, pb, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_reads_minigrad_model_files(name, tmp_path):
    keras = require_keras()
    build, data = MODELS[name]
    x = data()
    inputs, outputs = build(mgl.layers, lambda shape, dtype=None: mgl.Input(shape, dtype=dtype))
    model = mgl.Model(inputs, outputs)
    _train_one_step(model, x)
    model.save(tmp_path / "model.keras")
    theirs = keras.models.load_model(tmp_path / "model.keras")
    _assert_same(theirs.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(theirs.optimizer.iterations.numpy()) == model.optimizer.iterations == 1


@pytest.mark.parametrize("name", sorted(MODELS))
def test_minigrad_reads_keras_model_files(name, tmp_path):
    keras = require_keras()
    build, data = MODELS[name]
    x = data()
    inputs, outputs = build(keras.layers, lambda shape, dtype=None: keras.Input(shape, dtype=dtype))
    model = keras.Model(inputs, outputs)
    _train_one_step(model, x)
    model.save(tmp_path / "model.keras")
    ours = mgl.models.load_model(tmp_path / "model.keras")
    _assert_same(ours.predict(x, verbose=0), model.predict(x, verbose=0))
    assert ours.optimizer.iterations == int(model.optimizer.iterations.numpy()) == 1


def test_minigrad_reads_a_keras_sequential_with_a_masked_embedding(tmp_path):
    keras = require_keras()
    L = keras.layers
    model = keras.Sequential(
        [keras.Input((6,), dtype="int32"), L.Embedding(12, 4, mask_zero=True), L.LSTM(3)]
    )
    x = _ids()
    _train_one_step(model, x)
    model.save(tmp_path / "model.keras")
    ours = mgl.models.load_model(tmp_path / "model.keras")
    assert ours.layers[0].mask_zero
    _assert_same(ours.predict(x, verbose=0), model.predict(x, verbose=0))


def test_minigrad_reads_keras_compile_settings(tmp_path):
    keras = require_keras()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy", keras.metrics.SparseCategoricalAccuracy()],
    )
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.integers(0, 4, 8)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    ours = mgl.models.load_model(tmp_path / "model.keras")
    assert type(ours.optimizer) is mgl.optimizers.SGD and ours.optimizer.momentum == 0.5
    assert ours.loss.from_logits and ours.optimizer.iterations == 2
    theirs = model.evaluate(x, y, verbose=0, return_dict=True)
    mine = ours.evaluate(x, y, verbose=0, return_dict=True)
    assert mine["loss"] == pytest.approx(theirs["loss"], rel=1e-5)
    assert mine["sparse_categorical_accuracy"] == pytest.approx(
        theirs["sparse_categorical_accuracy"]
    )


def _nested(lib):
    """A functional model calling a functional model and a Sequential, in library ``lib``."""
    L = lib.layers
    inner_in = lib.Input((3,))
    inner = lib.Model(inner_in, L.Dense(4, activation="tanh")(inner_in), name="inner")
    stack = lib.Sequential([lib.Input((4,)), L.Dense(2)], name="stack")
    x = lib.Input((3,))
    return lib.Model(x, stack(inner(x)))


@pytest.mark.parametrize("writer", ["minigrad", "keras"])
def test_nested_models_move_both_ways(writer, tmp_path):
    keras = require_keras()
    libs = {"minigrad": mgl, "keras": keras}
    reader = "keras" if writer == "minigrad" else "minigrad"
    model = _nested(libs[writer])
    x = rng.normal(size=(4, 3)).astype("float32")
    _train_one_step(model, x)
    model.save(tmp_path / "model.keras")
    loaded = libs[reader].models.load_model(tmp_path / "model.keras")
    _assert_same(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
