"""Multiply, Average and Dot: values against numpy, gradients against finite differences, the
masks they combine (Multiply, Average) or drop (Dot), configs and bad inputs."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


def _masked(shape, mask):
    t = mg.tensor(RNG.normal(size=shape))
    mgl.set_keras_mask(t, None if mask is None else mg.tensor(np.array(mask)))
    return t


def _round_trip(layer, inputs):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_array_equal(clone(inputs).numpy(), layer(inputs).numpy())


def test_multiply_and_average_values_gradients_and_configs():
    a, b, c = (RNG.normal(size=(2, 3, 4)) for _ in range(3))
    np.testing.assert_allclose(mgl.Multiply()([a, b, c]).numpy(), a * b * c, rtol=1e-12)
    np.testing.assert_allclose(mgl.Average()([a, b, c]).numpy(), (a + b + c) / 3, rtol=1e-12)
    row = RNG.normal(size=(2, 1, 4))  # broadcasts over the time axis
    np.testing.assert_allclose(mgl.Multiply()([a, row]).numpy(), a * row, rtol=1e-12)
    w = RNG.normal(size=(2, 3, 4))
    for layer in (mgl.Multiply(), mgl.Average()):
        mg.gradcheck(lambda a, b, layer=layer: mg.sum(layer([a, b]) * w), [a, b])
        _round_trip(layer, [a, b])


def test_multiply_and_average_and_their_masks_as_keras_2():
    m1, m2 = [[True, True, False]], [[True, False, True]]
    a, b, plain = _masked((1, 3, 2), m1), _masked((1, 3, 2), m2), _masked((1, 3, 2), None)
    for layer in (mgl.Multiply, mgl.Average):
        np.testing.assert_array_equal(mgl.get_keras_mask(layer()([a, b])).numpy(), [[1, 0, 0]])
        np.testing.assert_array_equal(mgl.get_keras_mask(layer()([a, plain])).numpy(), m1)
        assert mgl.get_keras_mask(layer()([plain, plain])) is None


def _dot_cases():
    """(axes, shape a, shape b, numpy reference)."""
    return [
        ((2, 2), (2, 3, 4), (2, 5, 4), lambda a, b: np.einsum("nik,njk->nij", a, b)),
        (-1, (2, 3, 4), (2, 5, 4), lambda a, b: np.einsum("nik,njk->nij", a, b)),
        ((1, 2), (2, 4, 3), (2, 5, 4), lambda a, b: np.einsum("nki,njk->nij", a, b)),
        (1, (2, 4), (2, 4), lambda a, b: np.sum(a * b, axis=1, keepdims=True)),
        ([1, 1], (2, 4), (2, 4, 3), lambda a, b: np.einsum("nk,nkj->nj", a, b)),
    ]


@pytest.mark.parametrize(("axes", "shape_a", "shape_b", "reference"), _dot_cases())
def test_dot_is_a_batch_dot(axes, shape_a, shape_b, reference):
    a, b = RNG.normal(size=shape_a), RNG.normal(size=shape_b)
    layer = mgl.Dot(axes=axes)
    out = layer([a, b])
    np.testing.assert_allclose(out.numpy(), reference(a, b), rtol=1e-12)
    assert layer.compute_output_shape([shape_a, shape_b]) == out.shape
    w = RNG.normal(size=out.shape)
    mg.gradcheck(lambda a, b: mg.sum(layer([a, b]) * w), [a, b])
    _round_trip(layer, [a, b])


def test_dot_normalize_gives_cosine_similarities():
    a, b = RNG.normal(size=(3, 5)), RNG.normal(size=(3, 5))
    layer = mgl.Dot(axes=1, normalize=True)
    cosine = np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    np.testing.assert_allclose(layer([a, b]).numpy()[:, 0], cosine, rtol=1e-12)
    w = RNG.normal(size=(3, 1))
    mg.gradcheck(lambda a, b: mg.sum(layer([a, b]) * w), [a, b])
    _round_trip(layer, [a, b])


def test_dot_output_has_no_mask_and_symbolic_shapes():
    a, b = _masked((1, 3, 2), [[True, False, True]]), _masked((1, 3, 2), [[True, True, False]])
    assert mgl.get_keras_mask(mgl.Dot(axes=2)([a, b])) is None
    x, y = mgl.Input((None, 4)), mgl.Input((7, 4))
    assert mgl.Dot(axes=2)([x, y]).shape == (None, None, 7)


def test_bad_merge_inputs_are_named():
    a = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"at least 2 inputs, received 1"):
        mgl.Multiply()([a])
    with pytest.raises(ValueError, match=r"one input of shape \(2, 3\)"):
        mgl.Average()(a)
    with pytest.raises(ValueError, match=r"broadcast.*\(2, 3\), \(2, 4\)"):
        mgl.Average()([a, np.ones((2, 4))])
    with pytest.raises(ValueError, match="exactly 2 inputs, received 3"):
        mgl.Dot(axes=1)([a, a, a])
    with pytest.raises(ValueError, match=r"incompatibility 3 != 4.*\(2, 4\)"):
        mgl.Dot(axes=1)([a, np.ones((2, 4))])
    with pytest.raises(ValueError, match=r"axis 0 must name a non-batch axis"):
        mgl.Dot(axes=0)([a, a])
    with pytest.raises(TypeError, match=r"list of 2 integers, received \(1, 2, 3\)"):
        mgl.Dot(axes=(1, 2, 3))
