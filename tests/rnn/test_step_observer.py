"""The observer protocol of the time loop (``loop.StepObserver``): an observer attached to one RNN
sees every step in processing order (its index, the input slice, the step mask, the states it
starts from, which are the states the previous step left), its replacement states are carried on,
and attaching it forces the per-step loop of that layer only (alone, in a model, in one direction
of a Bidirectional). BPTT inspection (``mgl.inspect``) restores the cells' weights after an error
inside a traced call."""

from contextlib import contextmanager

import numpy as np
import pytest
from cells_for_tests import MinimalRNNCell

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.inspect.observer import recording_steps
from minigrad_layers.layers.rnn import loop

B, T, D, H = 3, 5, 2, 4
MASK = np.array([[1, 1, 1, 0, 0], [0, 1, 0, 1, 1], [1, 1, 1, 1, 1]], dtype=bool)
SEQUENCE_OPS = {"simple_rnn_sequence", "lstm_sequence", "gru_sequence"}


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


class Witness(loop.StepObserver):
    """Keeps what every hook saw; ``leave_step`` carries ``mg.identity`` copies of the states."""

    def __init__(self):
        self.entered, self.left = [], []

    def enter_step(self, t, x_t, states, keep):
        self.entered.append((t, x_t.numpy().copy(), list(states), keep))

    def leave_step(self, t, states, output, cell_states):
        copies = [mg.identity(s) for s in states]
        self.left.append((t, copies, output))
        return copies, output


@contextmanager
def attached(layer, observer):
    """``layer.step_observer = observer`` for the block."""
    layer.step_observer = observer
    try:
        yield observer
    finally:
        layer.step_observer = None


def _x(seed=0, shape=(B, T, D)):
    return np.random.default_rng(seed).normal(size=shape)


def _sequence_ops(records):
    return [r.op for r in records if r.op in SEQUENCE_OPS]


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_the_observer_sees_every_step_in_processing_order(go_backwards, masked):
    layer = mgl.LSTM(H, go_backwards=go_backwards, return_state=True, truncate_gradient=2)
    x, h0, c0 = _x(0), _x(1, (B, H)), _x(2, (B, H))
    mask = MASK if masked else None
    with attached(layer, Witness()) as witness:
        _, h, c = layer(x, mask=mask, initial_state=[h0, c0])
    assert [t for t, *_ in witness.entered] == [t for t, *_ in witness.left] == list(range(T))
    positions = range(T - 1, -1, -1) if go_backwards else range(T)
    for (t, x_t, states_in, keep), i in zip(witness.entered, positions, strict=True):
        np.testing.assert_array_equal(x_t, x[:, i])
        if masked:
            np.testing.assert_array_equal(keep, MASK[:, i])
        else:
            assert keep is None
        if t == 0:
            np.testing.assert_array_equal(states_in[0].numpy(), h0)
            np.testing.assert_array_equal(states_in[1].numpy(), c0)
        else:  # the very Tensors the previous step's leave_step returned (truncation is later)
            _, previous_out, _ = witness.left[t - 1]
            assert all(s is p for s, p in zip(states_in, previous_out, strict=True))
        _, states_out, _ = witness.left[t]
        if masked:  # a masked row carries its state through the step
            for before, after in zip(states_in, states_out, strict=True):
                np.testing.assert_array_equal(after.numpy()[~keep], before.numpy()[~keep])
    _, final, _ = witness.left[-1]
    np.testing.assert_array_equal(h.numpy(), final[0].numpy())
    np.testing.assert_array_equal(c.numpy(), final[1].numpy())
    plain_h, plain_c = layer(x, mask=mask, initial_state=[h0, c0])[1:]  # fused, unobserved
    np.testing.assert_allclose(h.numpy(), plain_h.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c.numpy(), plain_c.numpy(), rtol=1e-12, atol=1e-14)


def test_an_attached_observer_forces_the_per_step_path_of_that_layer_only():
    x = _x(3)
    layer = mgl.GRU(H)
    layer(x)
    with mg.GradientTape() as tape:
        layer(x)
    assert _sequence_ops(tape.records) == ["gru_sequence"]
    with mg.GradientTape() as tape, attached(layer, loop.StepObserver()):
        layer(x)
    assert _sequence_ops(tape.records) == []
    assert {r.scope for r in tape.records} >= {loop.step_scope(layer.name, t) for t in range(T)}
    with mg.GradientTape() as tape:
        layer(x)
    assert _sequence_ops(tape.records) == ["gru_sequence"]  # detached: fused again

    bi = mgl.Bidirectional(mgl.LSTM(H, return_sequences=True))
    bi(x)
    with mg.GradientTape() as tape, attached(bi.backward_layer, Witness()) as witness:
        bi(x)
    assert _sequence_ops(tape.records) == ["lstm_sequence"]  # the forward direction
    assert [t for t, *_ in witness.entered] == list(range(T))
    np.testing.assert_array_equal(witness.entered[0][1], x[:, -1])


def test_an_observer_sees_a_recurrent_layer_inside_a_model():
    ids = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2]])
    embedding = mgl.Embedding(10, D, mask_zero=True)
    layer = mgl.LSTM(H)
    model = mgl.Sequential([embedding, layer, mgl.Dense(1)])
    expected = model(ids).numpy()
    with attached(layer, Witness()) as witness:
        got = model(ids).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    embedded = embedding(ids).numpy()
    for t, x_t, _, keep in witness.entered:
        np.testing.assert_array_equal(x_t, embedded[:, t])
        np.testing.assert_array_equal(keep, ids[:, t] != 0)


class FailingCell(MinimalRNNCell):
    """Raises at its ``fail_at``-th call; keeps the type of its kernel at every call."""

    def __init__(self, units, fail_at, **kwargs):
        super().__init__(units, **kwargs)
        self.fail_at, self.kernel_types = fail_at, []

    def call(self, inputs, states):
        self.kernel_types.append(type(self.kernel))
        if len(self.kernel_types) == self.fail_at:
            raise RuntimeError("the cell failed")
        return super().call(inputs, states)


def test_weights_are_the_variables_again_after_an_error_inside_a_traced_call():
    cell = FailingCell(H, fail_at=3)
    layer = mgl.RNN(cell)
    layer.build((B, T, D))
    weights = {"kernel": cell.kernel, "recurrent_kernel": cell.recurrent_kernel}
    with pytest.raises(RuntimeError, match="the cell failed"):
        mgl.inspect.trace_bptt(layer, _x(4), lambda out: mg.sum(out))
    assert cell.kernel_types[:2] == [mg.Tensor, mg.Tensor]  # steps 0, 1: per-step reads
    assert all(getattr(cell, name) is variable for name, variable in weights.items())
    assert layer.step_observer is None

    cell.kernel_types.clear()
    with pytest.raises(RuntimeError), recording_steps(layer):
        layer(_x(4))
    assert cell.kernel_types == [mg.Tensor] * 3
    assert all(getattr(cell, name) is variable for name, variable in weights.items())
    assert layer.step_observer is None
