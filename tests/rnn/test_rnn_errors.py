"""Every RNN error is a clear ValueError/AttributeError/TypeError that names what it received."""

import re

import numpy as np
import pytest
from cells_for_tests import (
    MinimalRNNCell,
    NoStateSizeCell,
    OnesInitialStateCell,
    TwoStateCell,
)

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.engine.input_layer import Input
from minigrad_layers.layers.rnn import RNN, StackedRNNCells
from minigrad_layers.layers.rnn.protocol import zero_states


def test_two_d_input():
    with pytest.raises(ValueError, match=re.escape("found ndim=2. Full shape received: (5, 2)")):
        RNN(MinimalRNNCell(3))(np.ones((5, 2)))


@pytest.mark.parametrize("unroll", [False, True])
@pytest.mark.parametrize("cell", [MinimalRNNCell(3), mgl.LSTMCell(3)], ids=["custom", "lstm"])
def test_a_sequence_without_steps(cell, unroll):
    """Both paths (the built-in LSTM cell takes the fused one unless unrolled) say the same."""
    layer = RNN(cell, unroll=unroll, name="rnn_without_steps")
    with pytest.raises(ValueError, match=re.escape("has no time steps (shape (2, 0, 4))")):
        layer(np.ones((2, 0, 4)))


def test_cell_without_state_size_or_call():
    with pytest.raises(ValueError, match="should have a `state_size` attribute"):
        RNN(NoStateSizeCell(3))

    class NoCall:
        state_size = 2

    with pytest.raises(ValueError, match="should have a `call` method"):
        RNN(NoCall())
    with pytest.raises(ValueError, match="Every cell of a StackedRNNCells should have a `state"):
        StackedRNNCells([MinimalRNNCell(2), NoStateSizeCell(2)])
    with pytest.raises(ValueError, match="state_size"):
        RNN([MinimalRNNCell(2), NoStateSizeCell(2)])


def test_wrong_number_of_initial_states():
    layer = RNN(TwoStateCell(3, 2))
    with pytest.raises(ValueError, match="has 2 states but was passed 1 initial states"):
        layer(np.ones((2, 4, 3)), initial_state=[np.zeros((2, 3))])
    with pytest.raises(ValueError, match="has 2 states but was passed 3 initial states"):
        layer(np.ones((2, 4, 3)), initial_state=[np.zeros((2, 3))] * 3)


def test_wrong_shape_of_initial_state():
    layer = RNN(TwoStateCell(3, 2))
    with pytest.raises(ValueError, match=re.escape("Received `state_spec`=[(2, 3), (2, 5)]")):
        layer(np.ones((2, 4, 3)), initial_state=[np.zeros((2, 3)), np.zeros((2, 5))])
    with pytest.raises(ValueError, match=re.escape("expected shapes [(2, 3)] for a batch of 2")):
        RNN(MinimalRNNCell(3))(np.ones((2, 4, 3)), initial_state=np.zeros((1, 3)))


def test_flat_initial_state_for_stacked_cells():
    layer = RNN([MinimalRNNCell(2), TwoStateCell(3, 2)])
    states = [np.zeros((2, 2)), np.zeros((2, 3)), np.zeros((2, 2))]
    with pytest.raises(ValueError, match=re.escape("nested like the states")) as info:
        layer(np.ones((2, 4, 3)), initial_state=states)
    assert "[(2, 2), (2, 3), (2, 2)]" in str(info.value)  # what was received


def test_reset_states_errors():
    layer = RNN(MinimalRNNCell(3), stateful=True)
    with pytest.raises(ValueError, match="needs to know its batch size"):
        layer.reset_states()
    layer(np.ones((2, 4, 3)))
    with pytest.raises(
        ValueError,
        match=re.escape("State 0 is incompatible with layer rnn")
        + ".*"
        + re.escape("expected shape=(2, 3), found shape=(2, 4)"),
    ):
        layer.reset_states([np.zeros((2, 4))])
    with pytest.raises(ValueError, match="expects 1 states, but it received 2 state values"):
        layer.reset_states([np.zeros((2, 3)), np.zeros((2, 3))])
    with pytest.raises(AttributeError, match="Layer must be stateful"):
        RNN(MinimalRNNCell(3)).reset_states()


@pytest.fixture(autouse=True)
def _fresh_names():
    from minigrad_layers.engine.naming import clear_session

    clear_session()


def test_stateful_layer_called_with_another_batch_size():
    layer = RNN(MinimalRNNCell(3), stateful=True)
    layer(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match="Expected batch size: 2\n- Received batch size: 3"):
        layer(np.ones((3, 4, 3)))


def test_constants_to_a_cell_that_does_not_take_them():
    with pytest.raises(ValueError, match="RNN cell does not support constants"):
        RNN(MinimalRNNCell(3))(np.ones((2, 4, 3)), constants=[np.ones((2, 2))])


def test_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=re.escape("(2, 4)") + ".*" + re.escape("(2, 3)")):
        RNN(MinimalRNNCell(3))(np.ones((2, 4, 3)), mask=np.ones((2, 3), dtype=bool))


def test_unroll_needs_a_known_time_dimension():
    with pytest.raises(ValueError, match="Cannot unroll a RNN if the time dimension is undefined"):
        RNN(MinimalRNNCell(3), unroll=True)(Input((None, 5)))
    with pytest.raises(ValueError, match="Cannot unroll a RNN"):
        RNN(MinimalRNNCell(3), unroll=True).compute_output_shape((None, None, 5))
    assert RNN(MinimalRNNCell(3), unroll=True)(Input((1, 5))).shape == (None, 3)


def test_cell_returning_the_wrong_number_of_states():
    class Liar:
        state_size = [2, 2]

        def call(self, x, states):
            return states[0], [states[0]]

    with pytest.raises(ValueError, match=r"returned 1 states, but its state_size \[2, 2\] has 2"):
        RNN(Liar())(np.ones((1, 2, 3)))


def test_get_initial_state_needs_a_batch_size():
    with pytest.raises(ValueError, match="batch_size=None, dtype=float32"):
        zero_states(3, None, "float32")


def test_bad_get_initial_state_shapes():
    class Bad(OnesInitialStateCell):
        def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
            return [mg.ones((batch_size, 7), dtype=dtype)]

    with pytest.raises(ValueError, match=re.escape("returned states of shapes [(2, 7)]")):
        RNN(Bad(3))(np.ones((2, 4, 3)))


def test_unknown_layer_argument():
    with pytest.raises(TypeError, match="return_sequence"):
        RNN(MinimalRNNCell(3), return_sequence=True)


def test_bad_state_size():
    class Cell:
        state_size = "3"

        def call(self, x, states):
            return x, states

    with pytest.raises(TypeError, match="received '3'"):
        RNN(Cell())(np.ones((1, 2, 3)))
