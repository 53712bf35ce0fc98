"""A layer called again on an input of the shape it last accepted skips its input checks; any
other input is checked as on the first call (same errors), and masks are still honoured."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.engine.input_spec import InputSpec
from minigrad_layers.engine.masks import set_keras_mask


def _error(layer, x) -> str:
    with pytest.raises(ValueError) as info:
        layer(x)
    return str(info.value)


def test_dense_checks_a_new_shape_after_repeated_calls():
    layer = mgl.layers.Dense(2, name="d")
    for _ in range(3):
        layer(np.ones((4, 3), np.float32))
    fresh = mgl.layers.Dense(2, name="d")
    fresh(np.ones((4, 3), np.float32))
    assert _error(layer, np.ones((4, 5), np.float32)) == _error(fresh, np.ones((4, 5), np.float32))


def test_a_replaced_input_spec_is_checked_again():
    layer = mgl.layers.Dense(2)
    x = np.ones((4, 3), np.float32)
    layer(x)
    layer(x)
    layer.input_spec = InputSpec(ndim=3)
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        layer(x)


@pytest.mark.parametrize("make", [mgl.layers.LSTM, mgl.layers.SimpleRNN, mgl.layers.GRU])
def test_rnn_checks_a_new_shape_after_repeated_calls(make):
    layer = make(3, stateful=True, name="rnn")
    x = np.ones((1, 1, 4), np.float32)
    for _ in range(3):
        layer(x)
    with pytest.raises(ValueError, match="rnn"):
        layer(np.ones((1, 1, 5), np.float32))  # other features
    with pytest.raises(ValueError, match="batch size"):
        layer(np.ones((2, 1, 4), np.float32))  # stateful: another batch
    with pytest.raises(ValueError, match="no time steps"):
        layer(np.ones((1, 0, 4), np.float32))
    layer(x)  # the accepted shape still runs


def test_rnn_honours_a_mask_carried_by_the_input_after_unmasked_calls():
    mg.set_floatx("float64")
    try:
        layer = mgl.layers.LSTM(3)
        x = np.random.default_rng(0).normal(size=(2, 4, 2))
        layer(x)
        layer(x)
        mask = np.array([[True, True, False, False], [True, True, True, True]])
        carried = mg.tensor(x)
        set_keras_mask(carried, mg.tensor(mask))
        expected = layer(x, mask=mask).numpy()
        np.testing.assert_array_equal(layer(carried).numpy(), expected)
        assert not np.array_equal(expected, layer(x).numpy())
    finally:
        mg.set_floatx("float32")
