"""stateful=True: final states kept between calls (detached, not weights), reset_states(None or
arrays), batch size from batch_input_shape or the first call, explicit initial_state wins."""

import numpy as np
import pytest
from cells_for_tests import MinimalRNNCell, OnesInitialStateCell, TwoStateCell

import minigrad as mg
from minigrad_layers.layers.rnn import RNN


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _ones_cell_layer(**kwargs):
    layer = RNN(MinimalRNNCell(2), stateful=True, **kwargs)
    layer(np.ones((1, 2, 3)))
    layer.set_weights([np.ones((3, 2)), np.ones((2, 2))])
    layer.reset_states()
    return layer


def test_keras_stateful_numbers():
    layer = _ones_cell_layer()
    x = np.ones((1, 2, 3))
    np.testing.assert_array_equal(layer(x).numpy(), [[9.0, 9.0]])
    np.testing.assert_array_equal(layer(x).numpy(), [[45.0, 45.0]])
    np.testing.assert_array_equal(layer.states[0].numpy(), [[45.0, 45.0]])
    layer.reset_states()
    np.testing.assert_array_equal(layer(x).numpy(), [[9.0, 9.0]])


def test_two_calls_equal_one_call_on_the_whole_sequence():
    x = _x(3, 6, 2)
    whole = RNN(TwoStateCell(3, 2), return_sequences=True, return_state=True)
    seq, h, m = whole(x)
    stateful = RNN(whole.cell, return_sequences=True, stateful=True)
    first, second = stateful(x[:, :4]), stateful(x[:, 4:])
    np.testing.assert_allclose(
        np.concatenate([first.numpy(), second.numpy()], 1), seq.numpy(), rtol=1e-12
    )
    kept_h, kept_m = stateful.states
    np.testing.assert_allclose(kept_h.numpy(), h.numpy(), rtol=1e-12)
    np.testing.assert_allclose(kept_m.numpy(), m.numpy(), rtol=1e-12)


def test_kept_states_are_not_weights():
    layer = RNN(TwoStateCell(3, 2), stateful=True)
    layer(_x(2, 3, 2))
    assert len(layer.weights) == 4 and len(layer.get_weights()) == 4
    assert all(not isinstance(s, mg.Variable) for s in layer.states)


def test_reset_states_with_arrays_in_flat_state_order():
    layer = RNN(TwoStateCell(3, 2), stateful=True, return_state=True)
    layer(_x(2, 3, 2))
    h0, m0 = _x(2, 3, seed=1), _x(2, 2, seed=2)
    layer.reset_states([h0, m0])
    np.testing.assert_array_equal(layer.states[0].numpy(), h0)
    np.testing.assert_array_equal(layer.states[1].numpy(), m0)
    x = _x(2, 3, 2, seed=3)
    stateful_result = layer(x)
    plain = RNN(layer.cell, return_state=True)(x, initial_state=[h0, m0])
    for a, b in zip(stateful_result, plain, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    layer.reset_states()
    assert not any(s.numpy().any() for s in layer.states)


def test_stacked_reset_states_takes_a_flat_list_and_states_are_nested():
    layer = RNN([MinimalRNNCell(2), TwoStateCell(3, 2)], stateful=True)
    layer(_x(2, 3, 4))
    a, (h, m) = layer.states
    assert (a.shape, h.shape, m.shape) == ((2, 2), (2, 3), (2, 2))
    layer.reset_states([np.ones((2, 2)), np.full((2, 3), 2.0), np.full((2, 2), 3.0)])
    a, (h, m) = layer.states
    assert float(a.numpy()[0, 0]) == 1.0 and float(m.numpy()[0, 0]) == 3.0


def test_initial_kept_states_come_from_get_initial_state_and_reset_zeros_them():
    layer = RNN(OnesInitialStateCell(2), stateful=True)
    x = _x(1, 3, 2)
    out = layer(x)
    expected = RNN(layer.cell)(x, initial_state=np.ones((1, 2)))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-12)
    layer.reset_states()
    np.testing.assert_array_equal(layer.states[0].numpy(), np.zeros((1, 2)))


def test_explicit_initial_state_wins_over_kept_states():
    layer = _ones_cell_layer()
    x = np.ones((1, 2, 3))
    layer(x)
    out = layer(x, initial_state=np.zeros((1, 2)))
    np.testing.assert_array_equal(out.numpy(), [[9.0, 9.0]])
    np.testing.assert_array_equal(layer.states[0].numpy(), [[9.0, 9.0]])  # then kept


def test_batch_size_from_batch_input_shape_or_first_call():
    layer = RNN(MinimalRNNCell(2), stateful=True, batch_input_shape=(4, None, 3))
    assert layer.stateful_batch_size == 4
    with pytest.raises(ValueError, match="Expected batch size: 4"):
        layer(np.ones((3, 2, 3)))
    first_call = RNN(MinimalRNNCell(2), stateful=True)
    assert first_call.stateful_batch_size is None
    first_call(np.ones((5, 2, 3)))
    assert first_call.stateful_batch_size == 5
    time_major = RNN(MinimalRNNCell(2), stateful=True, time_major=True, batch_input_shape=(7, 4, 3))
    assert time_major.stateful_batch_size == 4


def test_gradients_never_cross_calls():
    layer = RNN(MinimalRNNCell(2), stateful=True)
    x1, x2 = mg.tensor(_x(1, 3, 3)), mg.tensor(_x(1, 3, 3, seed=1))
    with mg.GradientTape() as tape:
        tape.watch([x1, x2])
        layer(x1)
        out = layer(x2)
    g1, g2 = tape.gradient(out, [x1, x2])
    assert g1 is None and g2 is not None


def test_states_before_any_call_are_none():
    layer = RNN([MinimalRNNCell(2), TwoStateCell(3, 2)], stateful=True)
    assert layer.states == [None, [None, None]]
