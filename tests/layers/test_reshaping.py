"""RepeatVector, Flatten, Reshape and Permute: values against numpy, gradients against finite
differences, shapes (also symbolic), masks stopping, configs and bad arguments."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


def _round_trip(layer, x):
    """The config rebuilds an equal layer that computes the same outputs."""
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


def _masked(x, mask):
    t = mg.tensor(x)
    mgl.set_keras_mask(t, mg.tensor(np.asarray(mask)))
    return t


# (layer factory, input shape, numpy reference); layers are made inside the test, in float64
CASES = [
    (lambda: mgl.RepeatVector(3), (2, 4), lambda x: np.repeat(x[:, None, :], 3, axis=1)),
    (lambda: mgl.Flatten(), (2, 3, 4), lambda x: x.reshape(2, -1)),
    (lambda: mgl.Flatten(), (5,), lambda x: x.reshape(5, 1)),
    (
        lambda: mgl.Flatten(data_format="channels_first"),
        (2, 3, 4, 5),
        lambda x: np.transpose(x, (0, 2, 3, 1)).reshape(2, -1),
    ),
    (lambda: mgl.Reshape((4, 3)), (2, 3, 4), lambda x: x.reshape(2, 4, 3)),
    (lambda: mgl.Reshape((-1, 2)), (2, 3, 4), lambda x: x.reshape(2, 6, 2)),
    (lambda: mgl.Permute((2, 1)), (2, 3, 4), lambda x: np.transpose(x, (0, 2, 1))),
    (lambda: mgl.Permute((3, 1, 2)), (2, 3, 4, 5), lambda x: np.transpose(x, (0, 3, 1, 2))),
]


@pytest.mark.parametrize(("make", "shape", "reference"), CASES)
def test_values_gradients_and_config(make, shape, reference):
    layer = make()
    x = RNG.normal(size=shape)
    out = layer(x)
    np.testing.assert_array_equal(out.numpy(), reference(x))
    assert layer.compute_output_shape(shape) == out.shape
    w = RNG.normal(size=out.shape)
    mg.gradcheck(lambda x: mg.sum(layer(x) * w), [x])
    _round_trip(layer, x)


def test_symbolic_shapes_keep_unknown_sizes_unknown():
    x = mgl.Input((None, 4))
    assert mgl.Flatten()(x).shape == (None, None)
    assert mgl.Reshape((-1, 2))(x).shape == (None, None, 2)
    assert mgl.Permute((2, 1))(x).shape == (None, 4, None)
    assert mgl.RepeatVector(5)(mgl.Input((4,))).shape == (None, 5, 4)
    assert mgl.Reshape((2, 6))(mgl.Input((3, 4))).shape == (None, 2, 6)


def test_masks_stop_at_these_layers_as_in_tf_keras_2():
    x = _masked(RNG.normal(size=(2, 3, 4)), [[True, True, False], [True, False, False]])
    for layer in (mgl.Flatten(), mgl.Reshape((12,)), mgl.Permute((2, 1))):
        assert mgl.get_keras_mask(layer(x)) is None
    v = _masked(RNG.normal(size=(2, 4)), [True, False])
    assert mgl.get_keras_mask(mgl.RepeatVector(2)(v)) is None


def test_bad_arguments_and_shapes_are_named():
    with pytest.raises(ValueError, match="`n` must be a positive integer, received 0"):
        mgl.RepeatVector(0)
    with pytest.raises(ValueError, match=r"rank 2.*\(2, 3, 4\)"):
        mgl.RepeatVector(2)(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="at most one unknown"):
        mgl.Reshape((-1, -1))
    with pytest.raises(ValueError, match=r"positive integers.*\(0, 2\)"):
        mgl.Reshape((0, 2))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*12 values.*\(5,\)"):
        mgl.Reshape((5,))(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"\(None, 7, 2\).*\(-1, 5\)"):
        mgl.Reshape((-1, 5))(mgl.Input((7, 2)))
    with pytest.raises(ValueError, match=r"start from 1.*\(0, 1\)"):
        mgl.Permute((0, 1))
    with pytest.raises(ValueError, match=r"rank 3.*\(2, 3\)"):
        mgl.Permute((2, 1))(np.ones((2, 3)))
    with pytest.raises(ValueError, match="data_format.*'channels_middle'"):
        mgl.Flatten(data_format="channels_middle")


def test_default_names_follow_keras():
    assert mgl.RepeatVector(2).name == "repeat_vector"
    assert [mgl.Flatten().name, mgl.Flatten().name] == ["flatten", "flatten_1"]
