"""BatchNormalization and LayerNormalization: values against numpy, gradients against finite
differences, moving statistics, masks, weights order, configs and bad arguments."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


def batch_norm_reference(x, axis, gamma, beta, epsilon, keep=None):
    """Statistics over every axis but ``axis``, over the entries where ``keep`` (the mask
    broadcast over the features) is True, divided by the count plus Keras' 1e-7."""
    axes = tuple(a for a in range(x.ndim) if a != axis % x.ndim)
    if keep is None:
        mean, variance = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        keep = np.broadcast_to(keep[..., None], x.shape)
        count = keep.sum(axis=axes, keepdims=True) + 1e-7
        mean = np.where(keep, x, 0).sum(axis=axes, keepdims=True) / count
        variance = np.where(keep, (x - mean) ** 2, 0).sum(axis=axes, keepdims=True) / count
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    normalized = (x - mean) / np.sqrt(variance + epsilon)
    return normalized * gamma.reshape(shape) + beta.reshape(shape), mean, variance


@pytest.mark.parametrize(("shape", "axis"), [((6, 3), -1), ((4, 5, 3), -1), ((4, 3, 5), 1)])
def test_batch_norm_training_uses_batch_statistics(shape, axis):
    bn = mgl.BatchNormalization(axis=axis, momentum=0.9)
    x = RNG.normal(2.0, 3.0, size=shape)
    bn(x)
    size = shape[axis]
    gamma, beta = RNG.normal(size=size), RNG.normal(size=size)
    bn.set_weights([gamma, beta, np.zeros(size), np.ones(size)])
    out = bn(x, training=True)
    expected, mean, variance = batch_norm_reference(x, axis, gamma, beta, 1e-3)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * mean.reshape(-1), rtol=1e-10)
    np.testing.assert_allclose(
        bn.moving_variance.numpy(), 0.9 + 0.1 * variance.reshape(-1), rtol=1e-10
    )
    w = RNG.normal(size=shape)

    def loss(x, g, b):
        bn.gamma, bn.beta = g, b
        return mg.sum(bn(x, training=True) * w)

    mg.gradcheck(loss, [x, gamma, beta])


def test_batch_norm_inference_uses_the_moving_statistics():
    bn = mgl.BatchNormalization(epsilon=0.01)
    x = RNG.normal(size=(5, 4))
    bn(x)
    gamma, beta = RNG.normal(size=4), RNG.normal(size=4)
    mean, variance = RNG.normal(size=4), RNG.uniform(0.5, 2.0, size=4)
    bn.set_weights([gamma, beta, mean, variance])
    expected = (x - mean) / np.sqrt(variance + 0.01) * gamma + beta
    for training in (None, False):
        np.testing.assert_allclose(bn(x, training=training).numpy(), expected, rtol=1e-12)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mean)  # untouched
    w = RNG.normal(size=(5, 4))
    report = mg.gradcheck(lambda x: mg.sum(bn(x) * w), [x])
    np.testing.assert_allclose(report.analytic[0], w * gamma / np.sqrt(variance + 0.01))


def test_frozen_batch_norm_runs_in_inference_mode():
    bn = mgl.BatchNormalization()
    x = RNG.normal(3.0, size=(6, 2))
    bn(x)
    bn.trainable = False
    out = bn(x, training=True)
    np.testing.assert_allclose(out.numpy(), x / np.sqrt(1 + 1e-3))
    np.testing.assert_array_equal(bn.moving_mean.numpy(), [0.0, 0.0])


def test_batch_norm_leaves_masked_steps_out_of_the_statistics():
    bn = mgl.BatchNormalization(momentum=0.0)
    x = RNG.normal(size=(3, 4, 2))
    mask = np.array([[True, True, False, False], [True, True, True, True], [True] + [False] * 3])
    masked = mg.tensor(x)
    mgl.set_keras_mask(masked, mg.tensor(mask))
    out = bn(masked, training=True)
    ones, zeros = np.ones(2), np.zeros(2)
    expected, mean, variance = batch_norm_reference(x, -1, ones, zeros, 1e-3, keep=mask)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)
    kept = x[mask]  # (7, 2): the unmasked steps
    np.testing.assert_allclose(bn.moving_mean.numpy(), kept.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), kept.var(axis=0), rtol=1e-6)
    assert mgl.get_keras_mask(out) is mgl.get_keras_mask(masked)
    w = RNG.normal(size=x.shape)
    mg.gradcheck(lambda x: mg.sum(bn(x, mask=mask, training=True) * w), [x])


def test_batch_norm_weights_order_names_and_trainability():
    bn = mgl.BatchNormalization()
    bn(np.ones((2, 3)))
    assert [w.name for w in bn.weights] == [
        "batch_normalization/gamma",
        "batch_normalization/beta",
        "batch_normalization/moving_mean",
        "batch_normalization/moving_variance",
    ]
    assert [w.name for w in bn.non_trainable_weights] == [
        "batch_normalization/moving_mean",
        "batch_normalization/moving_variance",
    ]
    plain = mgl.BatchNormalization(center=False, scale=False)
    plain(np.ones((2, 3)))
    assert [w.name.split("/")[-1] for w in plain.weights] == ["moving_mean", "moving_variance"]
    assert plain(np.full((2, 3), 2.0)).shape == (2, 3)


def test_batch_norm_learns_in_fit_and_updates_moving_statistics():
    x = RNG.normal(5.0, 2.0, size=(64, 3))
    y = x.sum(axis=1, keepdims=True)
    model = mgl.Sequential([mgl.Input((3,)), mgl.BatchNormalization(), mgl.Dense(1)])
    model.compile("adam", "mse")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    bn = model.layers[0]
    assert np.all(bn.moving_mean.numpy() > 0.0)  # moved from 0 towards the mean 5
    before = bn.moving_mean.numpy().copy()
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before)


@pytest.mark.parametrize(("shape", "axis"), [((3, 5), -1), ((2, 3, 4), [1, 2]), ((2, 3, 4), 1)])
def test_layer_norm_values_and_gradients(shape, axis):
    ln = mgl.LayerNormalization(axis=axis)
    x = RNG.normal(1.0, 2.0, size=shape)
    ln(x)
    axes = tuple(a % len(shape) for a in (axis if isinstance(axis, list) else [axis]))
    param_shape = tuple(shape[a] for a in axes)
    gamma, beta = RNG.normal(size=param_shape), RNG.normal(size=param_shape)
    ln.set_weights([gamma, beta])
    broadcast = [shape[a] if a in axes else 1 for a in range(len(shape))]
    mean, variance = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    expected = (x - mean) / np.sqrt(variance + 1e-3) * gamma.reshape(broadcast)
    expected += beta.reshape(broadcast)
    np.testing.assert_allclose(ln(x).numpy(), expected, rtol=1e-10)
    np.testing.assert_array_equal(ln(x, training=True).numpy(), ln(x).numpy())
    w = RNG.normal(size=shape)

    def loss(x, g, b):
        ln.gamma, ln.beta = g, b
        return mg.sum(ln(x) * w)

    mg.gradcheck(loss, [x, gamma, beta])


def test_layer_norm_passes_masks_and_has_keras_weights():
    ln = mgl.LayerNormalization(center=False)
    x = mg.tensor(RNG.normal(size=(2, 3, 4)))
    mgl.set_keras_mask(x, mg.tensor(np.array([[True, True, False], [True, False, False]])))
    assert mgl.get_keras_mask(ln(x)) is mgl.get_keras_mask(x)
    assert [w.name for w in ln.weights] == ["layer_normalization/gamma"]


def test_symbolic_shapes_and_float32_default():
    assert mgl.BatchNormalization()(mgl.Input((None, 4))).shape == (None, None, 4)
    assert mgl.LayerNormalization(axis=[1, 2])(mgl.Input((3, 4))).shape == (None, 3, 4)
    mg.set_floatx("float32")
    for layer in (mgl.BatchNormalization(), mgl.LayerNormalization()):
        assert layer(np.ones((2, 3)), training=True).dtype == np.float32
        assert all(w.dtype == np.float32 for w in layer.weights)


def test_configs_round_trip_with_keras_3_keys():
    bn = mgl.BatchNormalization(axis=1, momentum=0.9, epsilon=1e-5, center=False, name="bn")
    config = bn.get_config()
    for key in ("synchronized", "renorm", "renorm_clipping", "renorm_momentum"):
        assert key in config
    ln = mgl.LayerNormalization(axis=[1, 2], epsilon=1e-6, scale=False, name="ln")
    assert ln.get_config()["rms_scaling"] is False
    x = RNG.normal(size=(4, 3, 2))
    for layer in (bn, ln):
        layer(x, training=True)
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
        clone(x)
        clone.set_weights(layer.get_weights())
        np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match=r"`momentum` must be in \[0, 1\], received 1.5"):
        mgl.BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="`epsilon` must be >= 0, received -1"):
        mgl.LayerNormalization(epsilon=-1)
    with pytest.raises(TypeError, match="`axis` must be an int, received 'last'"):
        mgl.BatchNormalization(axis="last")
    with pytest.raises(ValueError, match="renorm=True"):
        mgl.BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="rms_scaling=True"):
        mgl.LayerNormalization(rms_scaling=True)
    with pytest.raises(ValueError, match=r"'bn'.*axis 2 is out of bounds.*rank 2.*\(3, 4\)"):
        mgl.BatchNormalization(axis=2, name="bn")(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"'ln'.*repeated axis.*\[1, -1\]"):
        mgl.LayerNormalization(axis=[1, -1], name="ln")(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"'ln'.*axis 5 is out of bounds"):
        mgl.LayerNormalization(axis=5, name="ln")(mgl.Input((4,)))
    with pytest.raises(ValueError, match=r"'bn'.*size of axis 1 must be known"):
        mgl.BatchNormalization(axis=1, name="bn")(mgl.Input((None, 4)))
    bn = mgl.BatchNormalization(name="bn")
    bn(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'bn'.*axis 1.*value 3.*\(2, 4\)"):
        bn(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"'bn'.*expected ndim=2, found ndim=3"):
        bn(np.ones((2, 5, 3)))
    seq = mgl.BatchNormalization(name="bn")
    with pytest.raises(ValueError, match=r"'bn'.*one dimension less.*\(2, 5, 3\)"):
        seq(np.ones((2, 5, 3)), mask=np.ones((2, 5, 3), bool), training=True)
