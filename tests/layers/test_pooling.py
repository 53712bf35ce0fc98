"""MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D, GlobalAveragePooling1D: values against
numpy loops, gradients against finite differences, shapes, masks, configs and bad arguments."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


def pool_reference(x, size, strides, padding, reduce):
    """Each window's reduction over the real steps it covers; "same" windows start at
    ``i·s - left`` with TensorFlow's split of the padding."""
    length = x.shape[1]
    if padding == "valid":
        steps, left = (length - size) // strides + 1, 0
    else:
        steps = -(-length // strides)
        left = max((steps - 1) * strides + size - length, 0) // 2
    out = []
    for i in range(steps):
        start = i * strides - left
        window = x[:, max(start, 0) : min(start + size, length)]
        out.append(reduce(window, axis=1))
    return np.stack(out, axis=1)


LOCAL = [  # (pool_size, strides, padding, length)
    (2, None, "valid", 7),
    (3, 1, "valid", 6),
    (3, 2, "same", 8),
    (4, 3, "same", 10),
    (2, 2, "same", 5),
]


@pytest.mark.parametrize(("size", "strides", "padding", "length"), LOCAL)
@pytest.mark.parametrize(
    ("cls", "reduce"), [(mgl.MaxPooling1D, np.max), (mgl.AveragePooling1D, np.mean)]
)
def test_local_pooling_values_and_gradients(cls, reduce, size, strides, padding, length):
    layer = cls(size, strides=strides, padding=padding)
    x = RNG.normal(size=(2, length, 3))
    out = layer(x)
    expected = pool_reference(x, size, strides or size, padding, reduce)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert layer.compute_output_shape(x.shape) == out.shape
    w = RNG.normal(size=out.shape)
    mg.gradcheck(lambda x: mg.sum(layer(x) * w), [x])


def test_max_pooling_sends_the_gradient_to_the_winner_only():
    x = np.array([[[1.0], [4.0], [2.0], [3.0]]])
    report = mg.gradcheck(lambda x: mg.sum(mgl.MaxPooling1D(2)(x)), [x])
    np.testing.assert_array_equal(report.analytic[0][0, :, 0], [0.0, 1.0, 0.0, 1.0])


@pytest.mark.parametrize("cls", [mgl.MaxPooling1D, mgl.AveragePooling1D])
def test_channels_first_is_channels_last_transposed(cls):
    x = RNG.normal(size=(2, 7, 3))
    last = cls(3, strides=2, padding="same")(x).numpy()
    first = cls(3, strides=2, padding="same", data_format="channels_first")
    out = first(np.transpose(x, (0, 2, 1)))
    np.testing.assert_allclose(out.numpy(), np.transpose(last, (0, 2, 1)))
    assert first.compute_output_shape((None, 3, 7)) == (None, 3, 4)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling_values_and_gradients(keepdims, data_format):
    x = RNG.normal(size=(2, 5, 3))
    axis = 1 if data_format == "channels_last" else 2
    for cls, reduce in [(mgl.GlobalAveragePooling1D, np.mean), (mgl.GlobalMaxPooling1D, np.max)]:
        layer = cls(data_format=data_format, keepdims=keepdims)
        out = layer(x)
        np.testing.assert_allclose(out.numpy(), reduce(x, axis=axis, keepdims=keepdims))
        assert layer.compute_output_shape(x.shape) == out.shape
        w = RNG.normal(size=out.shape)
        mg.gradcheck(lambda x, layer=layer, w=w: mg.sum(layer(x) * w), [x])


def _masked(x, mask):
    t = mg.tensor(x)
    mgl.set_keras_mask(t, mg.tensor(np.asarray(mask)))
    return t


def test_global_average_pooling_leaves_masked_steps_out():
    x = RNG.normal(size=(2, 4, 3))
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    out = mgl.GlobalAveragePooling1D()(_masked(x, mask))
    expected = np.stack([x[0, :2].mean(axis=0), x[1].mean(axis=0)])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert mgl.get_keras_mask(out) is None
    w = RNG.normal(size=(2, 3))
    report = mg.gradcheck(lambda x: mg.sum(mgl.GlobalAveragePooling1D()(x, mask=mask) * w), [x])
    assert np.all(report.analytic[0][0, 2:] == 0)  # masked steps get no gradient
    first = mgl.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)
    out = first(np.transpose(x, (0, 2, 1)), mask=mask)
    np.testing.assert_allclose(out.numpy()[..., 0], expected, rtol=1e-12)


def test_masks_stop_at_pooling_as_in_keras():
    x = _masked(RNG.normal(size=(2, 4, 3)), [[True, True, False, False]] * 2)
    for layer in (mgl.MaxPooling1D(2), mgl.AveragePooling1D(2), mgl.GlobalMaxPooling1D()):
        assert mgl.get_keras_mask(layer(x)) is None
    # GlobalMaxPooling1D does not use the mask (as Keras): the masked steps take part
    np.testing.assert_array_equal(mgl.GlobalMaxPooling1D()(x).numpy(), np.max(x.numpy(), axis=1))


def test_symbolic_shapes():
    assert mgl.MaxPooling1D(2)(mgl.Input((None, 4))).shape == (None, None, 4)
    assert mgl.AveragePooling1D(3, 2, "same")(mgl.Input((9, 4))).shape == (None, 5, 4)
    assert mgl.GlobalMaxPooling1D()(mgl.Input((None, 4))).shape == (None, 4)
    assert mgl.GlobalAveragePooling1D(keepdims=True)(mgl.Input((7, 4))).shape == (None, 1, 4)


def test_configs_round_trip_with_keras_keys():
    layer = mgl.MaxPooling1D(3, padding="same", name="pool")
    config = layer.get_config()
    assert {k: config[k] for k in ("pool_size", "strides", "padding", "data_format")} == {
        "pool_size": (3,),
        "strides": (3,),
        "padding": "same",
        "data_format": "channels_last",
    }
    others = (mgl.AveragePooling1D(2, 1), mgl.GlobalAveragePooling1D(keepdims=True))
    for pool in (layer, *others):
        clone = type(pool).from_config(pool.get_config())
        assert clone.get_config() == pool.get_config()
        x = RNG.normal(size=(2, 6, 3))
        np.testing.assert_array_equal(clone(x).numpy(), pool(x).numpy())
    assert mgl.GlobalMaxPooling1D().get_config()["keepdims"] is False


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match="`pool_size` must be a positive integer, received 0"):
        mgl.MaxPooling1D(0)
    with pytest.raises(ValueError, match="`strides` must be a positive integer, received -1"):
        mgl.AveragePooling1D(2, strides=-1)
    with pytest.raises(ValueError, match="`padding`.*'causal'"):
        mgl.MaxPooling1D(2, padding="causal")
    with pytest.raises(ValueError, match="`data_format`.*'nwc'"):
        mgl.GlobalMaxPooling1D(data_format="nwc")
    with pytest.raises(ValueError, match=r"'pool'.*ndim=3, found ndim=2"):
        mgl.MaxPooling1D(2, name="pool")(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'pool'.*ndim=3, found ndim=4"):
        mgl.GlobalAveragePooling1D(name="pool")(np.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"'pool'.*2 steps.*window"):
        mgl.MaxPooling1D(3, name="pool")(np.ones((1, 2, 4)))
    with pytest.raises(ValueError, match=r"'pool'.*\(batch, steps\) = \(2, 3\).*\(2, 4\)"):
        mgl.GlobalAveragePooling1D(name="pool")(np.ones((2, 3, 4)), mask=np.ones((2, 4), bool))
