"""Lambda: values, gradients, output shapes (given, computed, inferred), masks, configs that store
functions by name (never bytecode) and bad inputs."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


def scaled_tanh(x, factor=1.0):
    """A named, importable function: a Lambda holding it has a config."""
    return mg.tanh(x) * factor


def doubled_features(input_shape):
    return (*input_shape[:-1], 2 * input_shape[-1])


def keep_positive_first_feature(inputs, mask):
    return inputs[..., 0] > 0


def test_values_arguments_and_gradients():
    x = RNG.normal(size=(2, 3, 4))
    np.testing.assert_allclose(mgl.Lambda(lambda t: t**2)(x).numpy(), x**2, rtol=1e-12)
    layer = mgl.Lambda(scaled_tanh, arguments={"factor": 3.0})
    np.testing.assert_allclose(layer(x).numpy(), 3.0 * np.tanh(x), rtol=1e-12)
    w = RNG.normal(size=(2, 3, 4))
    mg.gradcheck(lambda x: mg.sum(layer(x) * w), [x])
    pair = mgl.Lambda(lambda ab: ab[0] * ab[1])([x, 2 * x])  # a list of inputs
    np.testing.assert_allclose(pair.numpy(), 2 * x * x, rtol=1e-12)


def test_the_function_receives_mask_and_training_when_it_names_them():
    seen = {}

    def record(x, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x

    x = mg.tensor(np.ones((1, 3, 2)))
    mgl.set_keras_mask(x, mg.tensor(np.array([[True, False, True]])))
    mgl.Lambda(record)(x, training=True)
    np.testing.assert_array_equal(seen["mask"].numpy(), [[True, False, True]])
    assert seen["training"] is True


def test_output_shapes_given_computed_and_inferred():
    twice = lambda x: mg.concat([x, x], axis=-1)  # noqa: E731
    assert mgl.Lambda(twice, output_shape=(5, 8)).compute_output_shape((None, 5, 4)) == (
        None,
        5,
        8,
    )
    by_function = mgl.Lambda(twice, output_shape=doubled_features)
    assert by_function.compute_output_shape((7, 5, 4)) == (7, 5, 8)
    split = mgl.Lambda(lambda x: [x, x[:, 0]], output_shape=[(5, 4), (4,)])
    assert split.compute_output_shape((3, 5, 4)) == [(3, 5, 4), (3, 4)]
    inputs = mgl.Input((None, 4))
    inferred = mgl.Lambda(twice)(inputs)  # found by running the function on zeros
    assert inferred.shape == (None, None, 8)
    model = mgl.Model(inputs, mgl.Dense(1)(inferred))
    assert model.predict(np.ones((2, 3, 4)), verbose=0).shape == (2, 3, 1)


def test_masks_are_dropped_computed_or_fixed():
    x = mg.tensor(RNG.normal(size=(2, 3, 4)))
    mgl.set_keras_mask(x, mg.tensor(np.array([[True, True, False], [True, False, False]])))
    assert mgl.get_keras_mask(mgl.Lambda(lambda t: t * 2)(x)) is None  # tf.keras 2: no mask
    assert mgl.get_keras_mask(mgl.Lambda(lambda t: t)(x)) is None  # not even the input itself
    computed = mgl.Lambda(lambda t: t, mask=keep_positive_first_feature)(x)
    np.testing.assert_array_equal(mgl.get_keras_mask(computed).numpy(), x.numpy()[..., 0] > 0)
    passed_on = mgl.Lambda(lambda t: t, mask=lambda inputs, mask: mask)(x)
    assert mgl.get_keras_mask(passed_on) is mgl.get_keras_mask(x)
    fixed = mgl.Lambda(lambda t: t, mask=[[1, 0, 1], [0, 1, 1]])(x)
    np.testing.assert_array_equal(mgl.get_keras_mask(fixed).numpy(), [[1, 0, 1], [0, 1, 1]])


def test_configs_store_functions_by_name_and_round_trip():
    x = RNG.normal(size=(2, 3, 4))
    layer = mgl.Lambda(
        scaled_tanh,
        output_shape=doubled_features,
        mask=keep_positive_first_feature,
        arguments={"factor": 0.5},
        name="act",
    )
    config = layer.get_config()
    assert list(config) == [
        *("name", "trainable", "dtype", "function", "output_shape", "mask", "arguments")
    ]
    module = scaled_tanh.__module__
    assert config["function"] == {"module": module, "name": "scaled_tanh"}
    assert config["output_shape"] == {"module": module, "name": "doubled_features"}
    clone = mgl.Lambda.from_config(config)
    assert clone.function is scaled_tanh and clone.mask is keep_positive_first_feature
    assert clone.get_config() == config
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())
    library = mgl.Lambda(mg.tanh, output_shape=(3, 4), mask=[[True, False, True]])
    config = library.get_config()
    assert config["function"] == {"module": "minigrad.ops", "name": "tanh"}
    assert config["output_shape"] == (3, 4) and config["mask"] == [[True, False, True]]
    assert mgl.Lambda.from_config(config).get_config() == config
    assert "output_shape" not in mgl.Lambda(mg.tanh).get_config()


def test_float32_by_default():
    mg.set_floatx("float32")
    assert mgl.Lambda(mg.tanh)(np.ones((2, 3))).dtype == np.float32


# -- bad input ---------------------------------------------------------------------------------


def test_functions_without_an_importable_name_have_no_config():
    def nested(x):
        return x

    for function in (lambda x: x, nested):
        layer = mgl.Lambda(function, name="anonymous")
        with pytest.raises(ValueError, match="'anonymous'.*named function.*custom Layer"):
            layer.get_config()
    with pytest.raises(ValueError, match="cannot be stored"):
        mgl.Lambda(mg.tanh, mask=lambda inputs, mask: mask).get_config()
    with pytest.raises(ValueError, match="cannot import a function 'nowhere' from module 'math'"):
        mgl.Lambda.from_config({"function": {"module": "math", "name": "nowhere"}})
    with pytest.raises(ValueError, match="must be \\{'module'"):
        mgl.Lambda.from_config({"function": {"class_name": "__lambda__", "config": {}}})


def test_bad_arguments_and_outputs_name_the_layer():
    with pytest.raises(TypeError, match="'lam'.*callable.*received 3"):
        mgl.Lambda(3, name="lam")
    with pytest.raises(TypeError, match="'lam'.*`arguments` must be a dict.*list"):
        mgl.Lambda(mg.tanh, arguments=[1.0], name="lam")
    with pytest.raises(TypeError, match="'lam'.*`output_shape`.*'wide'"):
        mgl.Lambda(mg.tanh, output_shape="wide", name="lam")
    with pytest.raises(ValueError, match="'lam'.*mask must be bool.*0.5"):
        mgl.Lambda(mg.tanh, mask=[[0.5, 1.0]], name="lam")
    with pytest.raises(TypeError, match="'lam'.*must return Tensors.*ndarray"):
        mgl.Lambda(np.tanh, name="lam")(np.ones((2, 3)))
