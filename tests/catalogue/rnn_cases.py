"""Bad inputs to the recurrent layers: states, masks, ranks, constants, stateful batches, and
cells that do not keep their own protocol."""

import numpy as np

import minigrad as mg
import minigrad_layers as mgl
from catalogue.case import Case

X = np.ones((2, 3, 4))


class _WrongStateCell(mgl.Layer):
    """Declares state_size 3 but returns a state of 4 units."""

    state_size = 3

    def call(self, inputs, states):
        state = mg.zeros((inputs.shape[0], 4))
        return state, [state]


class _NoStateSize:
    def call(self, inputs, states):
        return inputs, states


class _PairCell(mgl.Layer):
    """Takes a pair of sequences (a nested input): its step inputs are ``(a_t, b_t)``."""

    state_size = 2

    def call(self, inputs, states):
        a, b = inputs
        return a + b, [a + b]


def _stateful_then(batch):
    layer = mgl.SimpleRNN(3, stateful=True, name="rnn")
    layer(X)
    return layer(np.ones((batch, 3, 4)))


def _reset_with(shape):
    layer = mgl.SimpleRNN(3, stateful=True, name="rnn")
    layer(X)
    layer.reset_states([np.zeros(shape)])


CASES = [
    Case(
        "nested input of sequences of different lengths",
        lambda: mgl.RNN(_PairCell(), name="rnn")((np.ones((2, 3, 2)), np.ones((2, 4, 2)))),
        ValueError,
        ("'rnn'", "share the batch size", "[(2, 3, 2), (2, 4, 2)]"),
    ),
    Case(
        "cell taking a pair of sequences given three",
        lambda: mgl.RNN(_PairCell(name="pair_cell"), name="rnn")((np.ones((2, 3, 2)),) * 3),
        ValueError,
        ("'rnn'", "'pair_cell' (_PairCell)", "[(2, 2), (2, 2), (2, 2)]", "too many values"),
    ),
    Case(
        "lstm given one initial state",
        lambda: mgl.LSTM(3, name="lstm")(X, initial_state=[np.zeros((2, 3))]),
        ValueError,
        ("Layer lstm has 2 states", "passed 1 initial states"),
    ),
    Case(
        "lstm initial states of the wrong size",
        lambda: mgl.LSTM(3, name="lstm")(X, initial_state=[np.zeros((2, 5))] * 2),
        ValueError,
        ("`state_spec`=[(2, 5), (2, 5)]", "layer 'lstm'", "expected shapes [(2, 3), (2, 3)]"),
    ),
    Case(
        "gru mask of the wrong shape",
        lambda: mgl.GRU(3, name="gru")(X, mask=np.ones((2, 4), bool)),
        ValueError,
        ("'gru'", "(batch, timesteps) = (2, 3)", "mask of shape (2, 4)"),
    ),
    Case(
        "rnn given a matrix",
        lambda: mgl.SimpleRNN(3, name="rnn")(np.ones((2, 4))),
        ValueError,
        ("layer 'rnn'", "expected ndim >= 3", "found ndim=2", "(2, 4)"),
    ),
    Case(
        "lstm given 4-D steps",
        lambda: mgl.LSTM(3)(np.ones((2, 3, 4, 1))),
        ValueError,
        ("LSTMCell", "(batch, features)", "received steps of shape (2, 4, 1)"),
    ),
    Case(
        "constants to a cell without a constants argument",
        lambda: mgl.LSTM(3, name="lstm")(X, constants=[np.ones((2, 2))]),
        ValueError,
        ("Layer 'lstm'", "does not support constants", "LSTMCell"),
    ),
    Case(
        "cell returning a state of the wrong size",
        lambda: mgl.RNN(_WrongStateCell(name="x"), name="rnn")(X),
        ValueError,
        ("cell 'x'", "layer 'rnn'", "state 0 of shape (2, 4)", "expected (2, 3)"),
    ),
    Case(
        "cell without state_size",
        lambda: mgl.RNN(_NoStateSize()),
        ValueError,
        ("should have a `state_size` attribute", "cell=<"),
    ),
    Case(
        "stateful layer called with another batch size",
        lambda: _stateful_then(5),
        ValueError,
        ("Expected batch size: 2", "Received batch size: 5"),
    ),
    Case(
        "reset_states with a state of the wrong shape",
        lambda: _reset_with((2, 4)),
        ValueError,
        ("State 0 is incompatible with layer rnn", "expected shape=(2, 3)", "found shape=(2, 4)"),
    ),
    Case(
        "reset_states on a layer that is not stateful",
        lambda: mgl.SimpleRNN(3, name="rnn").reset_states(),
        AttributeError,
        ("Layer must be stateful", "layer 'rnn'", "stateful=False"),
    ),
    Case(
        "unrolling a sequence of unknown length",
        lambda: mgl.SimpleRNN(3, unroll=True)(mgl.Input((None, 4))),
        ValueError,
        ("Cannot unroll a RNN if the time dimension is undefined",),
    ),
    Case(
        "truncate_gradient of zero",
        lambda: mgl.LSTM(3, truncate_gradient=0),
        ValueError,
        ("truncate_gradient must be None", "positive int", "received 0"),
    ),
    Case(
        "lstm with a negative number of units",
        lambda: mgl.LSTM(-2),
        ValueError,
        ("`units`", "positive integer", "got -2"),
    ),
    Case(
        "lstm mask holding 0.5",
        lambda: mgl.LSTM(3, name="lstm")(X, mask=np.full((2, 3), 0.5)),
        ValueError,
        ("Layer 'lstm'", "0 or 1", "value 0.5"),
    ),
]
