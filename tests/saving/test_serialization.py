"""Configs in Keras 3's schema: built-in names, registered classes and functions,
``custom_objects``, and the errors for what cannot be found or must not be run."""

import json

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.saving import deserialize_keras_object, serialize_keras_object


def _json_round_trip(obj, **kwargs):
    return deserialize_keras_object(json.loads(json.dumps(serialize_keras_object(obj))), **kwargs)


@pytest.mark.parametrize(
    ("obj", "module", "class_name"),
    [
        (mgl.LSTM(2), "keras.layers", "LSTM"),
        (mgl.initializers.GlorotUniform(seed=3), "keras.initializers", "GlorotUniform"),
        (mgl.regularizers.L2(0.1), "keras.regularizers", "L2"),
        (mgl.constraints.MaxNorm(2.0), "keras.constraints", "MaxNorm"),
        (mgl.optimizers.RMSprop(0.01, centered=True), "keras.optimizers", "RMSprop"),
        (mgl.losses.BinaryCrossentropy(from_logits=True), "keras.losses", "BinaryCrossentropy"),
        (mgl.metrics.Mean("loss"), "keras.metrics", "Mean"),
        (mgl.Sequential([mgl.Dense(1)]), "keras", "Sequential"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_built_ins_use_keras_3_names_and_round_trip(obj, module, class_name):
    config = serialize_keras_object(obj)
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        module,
        class_name,
        None,
    )
    again = _json_round_trip(obj)
    assert type(again) is type(obj)
    assert serialize_keras_object(again) == config


def test_functions_are_named_by_their_keras_module():
    config = serialize_keras_object(mgl.losses.sparse_categorical_crossentropy)
    assert config == {
        "module": "keras.losses",
        "class_name": "function",
        "config": "sparse_categorical_crossentropy",
        "registered_name": "sparse_categorical_crossentropy",
    }
    assert deserialize_keras_object(config) is mgl.losses.sparse_categorical_crossentropy


def test_a_layer_keeps_its_nested_objects_and_build():
    layer = mgl.Dense(
        3,
        activation="tanh",
        kernel_initializer=mgl.initializers.RandomNormal(stddev=0.2, seed=4),
        kernel_regularizer=mgl.regularizers.L1L2(0.1, 0.2),
        bias_constraint=mgl.constraints.NonNeg(),
    )
    layer.build((None, 5))
    again = _json_round_trip(layer)
    assert again.built and again.kernel.shape == (5, 3)
    assert again.kernel_initializer.get_config() == {"mean": 0.0, "stddev": 0.2, "seed": 4}
    assert again.kernel_regularizer.get_config() == {"l1": 0.1, "l2": 0.2}
    assert type(again.bias_constraint) is mgl.constraints.NonNeg
    # a seeded initializer draws the same kernel again
    np.testing.assert_array_equal(again.kernel.numpy(), layer.kernel.numpy())


def test_numpy_arrays_and_plain_structures():
    value = {"a": [1, 2.5, None, "s"], "b": np.arange(3, dtype="int32"), "c": np.float32(2.0)}
    again = _json_round_trip(value)
    assert again["a"] == [1, 2.5, None, "s"] and again["c"] == 2.0
    assert again["b"].dtype == np.int32 and again["b"].tolist() == [0, 1, 2]


@mgl.saving.register_keras_serializable(package="tests", name="Doubling")
class Double(mgl.Layer):
    def call(self, inputs):
        return inputs * 2.0


@mgl.saving.register_keras_serializable(package="tests")
def halved_error(y_true, y_pred):
    diff = y_pred - y_true
    return 0.5 * mg.mean(diff * diff, axis=-1)


def test_registered_classes_and_functions_are_found_by_their_registered_name():
    assert mgl.saving.get_registered_name(Double) == "tests>Doubling"
    assert mgl.saving.get_registered_object("tests>Doubling") is Double
    assert mgl.saving.get_registered_object("tests>halved_error") is halved_error
    config = serialize_keras_object(Double(name="twice"))
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        __name__,
        "Double",
        "tests>Doubling",
    )
    assert _json_round_trip(Double(name="twice")).name == "twice"
    assert _json_round_trip(halved_error) is halved_error


def test_a_registered_loss_function_in_a_saved_model(tmp_path):
    model = mgl.Sequential([Double(input_shape=(2,)), mgl.Dense(1)])
    model.compile(optimizer="sgd", loss=halved_error)
    model.save(tmp_path / "m.keras")
    reloaded = mgl.models.load_model(tmp_path / "m.keras")
    assert type(reloaded.layers[0]) is Double
    assert reloaded.evaluate(np.ones((2, 2)), np.zeros((2, 1)), verbose=0) == pytest.approx(
        model.evaluate(np.ones((2, 2)), np.zeros((2, 1)), verbose=0)
    )


class Unregistered(mgl.Layer):
    def __init__(self, factor=3.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_an_unregistered_class_needs_custom_objects(tmp_path):
    model = mgl.Sequential([Unregistered(2.0, input_shape=(2,))])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Unregistered") as raised:
        mgl.models.load_model(tmp_path / "m.keras")
    assert "register_keras_serializable" in str(raised.value)
    assert "custom_objects" in str(raised.value)
    reloaded = mgl.models.load_model(
        tmp_path / "m.keras", custom_objects={"Unregistered": Unregistered}
    )
    assert reloaded.layers[0].factor == 2.0
    with mgl.saving.custom_object_scope({"Unregistered": Unregistered}):
        assert mgl.models.load_model(tmp_path / "m.keras").layers[0].factor == 2.0


def test_a_class_without_get_config_cannot_be_registered():
    class NoConfig:
        pass

    with pytest.raises(ValueError, match="get_config"):
        mgl.saving.register_keras_serializable()(NoConfig)


def test_lambdas_are_never_written_or_read():
    with pytest.raises(ValueError, match="lambda"):
        serialize_keras_object(lambda x: x)
    with pytest.raises(ValueError, match="lambda"):
        deserialize_keras_object({"class_name": "__lambda__", "config": {"value": "..."}})


def test_keras_options_that_are_off_are_accepted_by_optimizers():
    config = {
        "module": "keras.optimizers",
        "class_name": "Adam",
        "config": {
            "name": "adam",
            "learning_rate": 0.002,
            "weight_decay": None,
            "use_ema": False,
            "ema_momentum": 0.99,
            "beta_1": 0.8,
        },
        "registered_name": None,
    }
    adam = deserialize_keras_object(config)
    assert (adam.learning_rate, adam.beta_1) == (0.002, 0.8)
    config["config"]["use_ema"] = True
    with pytest.raises(TypeError, match="use_ema"):
        deserialize_keras_object(config)
