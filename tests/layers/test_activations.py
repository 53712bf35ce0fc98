"""Activations: values against numpy, the Keras 2 hard_sigmoid, lookup by name, gradients."""

import numpy as np
import pytest

import minigrad as mg
from minigrad_layers import activations

X = np.array([[-3.0, -0.7, 0.0, 0.4, 2.6], [1.5, -2.2, 0.3, -0.1, 4.0]])


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


REFERENCES = {
    "linear": lambda x: x,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "hard_sigmoid": lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
    "relu": lambda x: np.maximum(x, 0.0),
    "softmax": _softmax,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_values_match_numpy(name):
    mg.set_floatx("float64")
    out = activations.get(name)(mg.tensor(X))
    assert isinstance(out, mg.Tensor) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), REFERENCES[name](X), rtol=1e-12, atol=1e-15)


def test_hard_sigmoid_is_keras_2s_formula():
    out = activations.hard_sigmoid(mg.tensor([-3.0, -2.5, 0.0, 1.0, 2.5, 3.0]))
    np.testing.assert_allclose(out.numpy(), [0.0, 0.0, 0.5, 0.7, 1.0, 1.0], rtol=1e-6)


def test_softmax_axis():
    out = activations.softmax(mg.tensor(X), axis=0).numpy()
    np.testing.assert_allclose(out.sum(axis=0), np.ones(X.shape[1]), rtol=1e-6)


def test_get_accepts_callables_and_none():
    assert activations.get(None) is activations.linear
    assert activations.get(mg.tanh) is mg.tanh
    assert activations.get("relu") is activations.relu


def test_unknown_names_raise_value_error_listing_the_allowed_ones():
    with pytest.raises(ValueError, match="swishy") as info:
        activations.get("swishy")
    for name in REFERENCES:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="interpret"):
        activations.get(3)


def test_serialize_gives_builtin_names_and_returns_other_callables():
    assert activations.serialize(activations.tanh) == "tanh"
    assert activations.serialize(mg.tanh) is mg.tanh


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "hard_sigmoid", "relu", "softmax"])
def test_gradients_match_finite_differences(name):
    fn = activations.get(name)
    weights = np.linspace(0.5, 1.5, X.size).reshape(X.shape)  # a non-symmetric loss
    away_from_kinks = X + 0.05  # relu's kink at 0, hard_sigmoid's at +-2.5
    mg.gradcheck(lambda x: mg.sum(fn(x) * weights), [away_from_kinks])
