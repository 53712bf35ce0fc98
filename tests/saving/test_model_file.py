"""Whole-model ``.keras`` files: a reloaded model predicts exactly as the saved one, and training
resumed after reloading (weights and optimizer state) matches training continued on the
original, for Sequential, functional (several inputs and outputs, shared and nested models),
recurrent (bidirectional, stacked cells, masked embeddings) and registered subclassed models."""

import json
import zipfile

import numpy as np
import pytest

import minigrad_layers as mgl

rng = np.random.default_rng(0)


def _round_trip(model, path, **load_kwargs):
    model.save(path)
    return mgl.models.load_model(path, **load_kwargs)


def _assert_same_predictions(a, b, x):
    predictions = _as_list(a.predict(x, verbose=0))
    again = _as_list(b.predict(x, verbose=0))
    assert len(predictions) == len(again)
    for pa, pb in zip(predictions, again, strict=True):
        np.testing.assert_array_equal(pa, pb)


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _assert_resumes_identically(model, path, x, y, epochs_before=1):
    """fit, save, reload; then one more epoch on each: the weights must agree exactly."""
    model.fit(x, y, batch_size=4, epochs=epochs_before, shuffle=False, verbose=0)
    reloaded = _round_trip(model, path)
    assert reloaded.optimizer.iterations == model.optimizer.iterations > 0
    _assert_same_predictions(model, reloaded, x)
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    history_again = reloaded.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"] == history_again.history["loss"]
    for w, w_again in zip(model.get_weights(), reloaded.get_weights(), strict=True):
        np.testing.assert_array_equal(w, w_again)
    return reloaded


def test_sequential_lstm_resumes_training_identically(tmp_path):
    model = mgl.Sequential([mgl.LSTM(4, input_shape=(5, 3)), mgl.Dense(2)])
    model.compile(optimizer=mgl.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    x, y = rng.random((12, 5, 3)), rng.random((12, 2))
    reloaded = _assert_resumes_identically(model, tmp_path / "seq.keras", x, y)
    assert type(reloaded) is mgl.Sequential
    assert [type(layer) for layer in reloaded.layers] == [mgl.LSTM, mgl.Dense]
    assert reloaded.get_config() == model.get_config()


def test_functional_with_two_inputs_and_two_outputs(tmp_path):
    a, b = mgl.Input((4,), name="a"), mgl.Input((3,), name="b")
    h = mgl.Concatenate()([mgl.Dense(5, activation="tanh")(a), b])
    first = mgl.Dense(2, name="first")(h)
    second = mgl.Dense(1, activation="sigmoid", name="second")(h)
    model = mgl.Model([a, b], [first, second])
    model.compile(
        optimizer=mgl.optimizers.SGD(0.05, momentum=0.9),
        loss={"first": "mse", "second": "binary_crossentropy"},
        loss_weights=[1.0, 0.5],
    )
    x = [rng.random((8, 4)), rng.random((8, 3))]
    y = [rng.random((8, 2)), (rng.random((8, 1)) > 0.5).astype("float32")]
    reloaded = _assert_resumes_identically(model, tmp_path / "two.keras", x, y)
    assert [layer.name for layer in reloaded.layers] == [layer.name for layer in model.layers]
    assert reloaded.output_names == ["first", "second"]


def test_a_shared_layer_and_a_nested_model(tmp_path):
    inner_in = mgl.Input((3,))
    inner = mgl.Model(inner_in, mgl.Dense(3, activation="tanh")(inner_in), name="inner")
    stack = mgl.Sequential([mgl.Dense(3, input_shape=(3,)), mgl.Dense(3)], name="stack")
    shared = mgl.Dense(3, name="shared")
    x = mgl.Input((3,))
    h = shared(inner(x))
    h = shared(stack(h))  # the shared layer's second call
    model = mgl.Model(x, mgl.Dense(1)(h))
    model.compile(optimizer="adam", loss="mse")
    data, target = rng.random((8, 3)), rng.random((8, 1))
    reloaded = _assert_resumes_identically(model, tmp_path / "nested.keras", data, target)
    assert type(reloaded.get_layer("inner")) is mgl.Model
    assert type(reloaded.get_layer("stack")) is mgl.Sequential
    assert len(reloaded.get_layer("shared")._inbound_nodes) == 2


def test_bidirectional_and_stacked_cells(tmp_path):
    x = mgl.Input((6, 2))
    h = mgl.Bidirectional(mgl.LSTM(3, return_sequences=True), merge_mode="sum")(x)
    h = mgl.RNN([mgl.GRUCell(4), mgl.SimpleRNNCell(3)])(h)
    model = mgl.Model(x, mgl.Dense(1)(h))
    model.compile(optimizer="rmsprop", loss="mse")
    data, target = rng.random((8, 6, 2)), rng.random((8, 1))
    reloaded = _assert_resumes_identically(model, tmp_path / "rnn.keras", data, target)
    cells = reloaded.layers[2].cell.cells
    assert [type(cell) for cell in cells] == [mgl.GRUCell, mgl.SimpleRNNCell]


def test_masked_embedding_keeps_its_mask(tmp_path):
    model = mgl.Sequential(
        [
            mgl.Embedding(10, 4, mask_zero=True, input_shape=(6,)),
            mgl.LSTM(3),
            mgl.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    ids = rng.integers(1, 10, (8, 6))
    ids[:, 4:] = 0  # padding
    reloaded = _assert_resumes_identically(model, tmp_path / "emb.keras", ids, rng.random((8, 1)))
    assert reloaded.layers[0].mask_zero
    shorter = ids.copy()
    shorter[:, 3:] = 0  # a different padding changes the output: the mask is in use
    assert not np.allclose(reloaded.predict(shorter, verbose=0), reloaded.predict(ids, verbose=0))


@mgl.saving.register_keras_serializable(package="tests")
class TwoLayerNet(mgl.Model):
    def __init__(self, hidden, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.dense = mgl.Dense(hidden, activation="relu")
        self.out = mgl.Dense(1)

    def call(self, inputs):
        return self.out(self.dense(inputs))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


def test_a_registered_subclassed_model(tmp_path):
    model = TwoLayerNet(5, name="net")
    model.compile(optimizer="adam", loss="mse")
    x, y = rng.random((8, 3)), rng.random((8, 1))
    reloaded = _assert_resumes_identically(model, tmp_path / "net.keras", x, y)
    assert type(reloaded) is TwoLayerNet and reloaded.hidden == 5 and reloaded.name == "net"
    config = json.loads(zipfile.ZipFile(tmp_path / "net.keras").read("config.json"))
    assert config["registered_name"] == "tests>TwoLayerNet"
    assert config["build_config"] == {"input_shape": [4, 3]}


def test_the_archive_holds_keras_3s_members_and_schema(tmp_path):
    x = mgl.Input((3,))
    model = mgl.Model(x, mgl.Dense(2, activation="softmax")(x))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
    assert set(metadata) == {"keras_version", "date_saved"}
    assert metadata["keras_version"].startswith("3.")
    assert (config["module"], config["class_name"]) == ("keras.src.models.functional", "Functional")
    layers = config["config"]["layers"]
    assert [(layer["module"], layer["class_name"]) for layer in layers] == [
        ("keras.layers", "InputLayer"),
        ("keras.layers", "Dense"),
    ]
    dense = layers[1]
    assert dense["build_config"] == {"input_shape": [None, 3]}
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    tensor = dense["inbound_nodes"][0]["args"][0]
    assert tensor["class_name"] == "__keras_tensor__"
    assert tensor["config"]["keras_history"] == [layers[0]["name"], 0, 0]
    compile_config = config["compile_config"]
    assert compile_config["optimizer"]["class_name"] == "Adam"
    assert compile_config["loss"] == "categorical_crossentropy"
    assert compile_config["metrics"] == ["accuracy"]


def test_load_without_compiling_and_load_weights_from_a_keras_file(tmp_path):
    model = mgl.Sequential([mgl.Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "m.keras")
    plain = mgl.models.load_model(tmp_path / "m.keras", compile=False)
    assert not getattr(plain, "compiled", False)
    twin = mgl.Sequential([mgl.Dense(2, input_shape=(3,))])
    twin.load_weights(tmp_path / "m.keras")
    _assert_same_predictions(model, twin, rng.random((4, 3)))


def test_a_save_that_fails_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    model = mgl.Sequential([mgl.Dense(2, input_shape=(3,))])
    model.save(path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(mgl.saving.model_file, "write_weights", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]


def test_model_checkpoint_writes_whole_models(tmp_path):
    model = mgl.Sequential([mgl.Dense(1, input_shape=(2,))])
    model.compile(optimizer="adam", loss="mse")
    x, y = rng.random((8, 2)), rng.random((8, 1))
    checkpoint = mgl.callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}.keras"))
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[checkpoint])
    reloaded = mgl.models.load_model(tmp_path / "ckpt-2.keras")
    assert reloaded.optimizer.iterations == 4
    _assert_same_predictions(model, reloaded, x)


def test_clone_model_has_the_config_and_new_weights():
    x = mgl.Input((4,))
    model = mgl.Model(x, mgl.Dense(3)(mgl.Dense(5)(x)))
    model.compile(optimizer="adam", loss="mse")
    clone = mgl.models.clone_model(model)
    assert clone.get_config() == model.get_config()
    assert not getattr(clone, "compiled", False)
    assert all(a is not b for a, b in zip(clone.weights, model.weights, strict=True))
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])


def test_model_from_json_rebuilds_the_architecture():
    model = mgl.Sequential([mgl.SimpleRNN(3, input_shape=(4, 2)), mgl.Dense(1)])
    again = mgl.models.model_from_json(model.to_json())
    assert again.get_config() == model.get_config()
    assert again.predict(np.ones((2, 4, 2)), verbose=0).shape == (2, 1)
