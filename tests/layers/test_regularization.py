"""SpatialDropout1D: whole channels dropped in training only, the scaling, gradients, masks,
shapes, config and bad arguments."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


def test_drops_whole_channels_and_scales_the_rest():
    layer = mgl.SpatialDropout1D(0.4, seed=3)
    x = RNG.normal(size=(50, 6, 8))
    out = layer(x, training=True).numpy()
    kept = out != 0  # (50, 6, 8)
    assert np.all(kept == kept[:, :1, :])  # one decision per sample and channel, at every step
    np.testing.assert_allclose(out[kept], x[kept] / 0.6)
    assert 0.5 < kept[:, 0].mean() < 0.7  # about 1 - rate of the channels kept
    assert len({tuple(row) for row in kept[:, 0]}) > 1  # samples draw their own channels


def test_identity_unless_training_and_gradient_is_the_keep_mask():
    layer = mgl.SpatialDropout1D(0.5, seed=0)
    x = RNG.normal(size=(4, 3, 5))
    for training in (None, False):
        np.testing.assert_array_equal(layer(x, training=training).numpy(), x)
    np.testing.assert_array_equal(mgl.SpatialDropout1D(0.0)(x, training=True).numpy(), x)

    def loss(x):  # a new layer with the same seed draws the same channels at every call
        return mg.sum(mgl.SpatialDropout1D(0.5, seed=7)(x, training=True) ** 2)

    report = mg.gradcheck(loss, [x])
    keep = np.random.default_rng(7).random((4, 1, 5)) >= 0.5
    np.testing.assert_allclose(report.analytic[0], 2 * x * keep * 4.0)


def test_masks_pass_through_and_shapes():
    x = mg.tensor(RNG.normal(size=(2, 3, 4)))
    mgl.set_keras_mask(x, mg.tensor(np.array([[True, True, False], [True, False, False]])))
    assert mgl.get_keras_mask(mgl.SpatialDropout1D(0.3)(x, training=True)) is (
        mgl.get_keras_mask(x)
    )
    assert mgl.SpatialDropout1D(0.3)(mgl.Input((None, 4))).shape == (None, None, 4)


def test_config_has_keras_3_keys_and_round_trips():
    layer = mgl.SpatialDropout1D(0.25, seed=5, name="drop")
    config = layer.get_config()
    assert set(config) == {"rate", "seed", "name", "dtype"}
    clone = mgl.SpatialDropout1D.from_config(config)
    assert clone.get_config() == config
    x = RNG.normal(size=(3, 4, 5))
    np.testing.assert_array_equal(clone(x, training=True).numpy(), layer(x, training=True).numpy())


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match=r"`rate`.*\[0, 1\), received 1.0"):
        mgl.SpatialDropout1D(1.0)
    with pytest.raises(ValueError, match=r"'drop'.*expected ndim=3, found ndim=2"):
        mgl.SpatialDropout1D(0.5, name="drop")(np.ones((2, 3)))
    with pytest.raises(TypeError, match="noise_shape"):
        mgl.SpatialDropout1D(0.5, noise_shape=(1, 1, 1))
