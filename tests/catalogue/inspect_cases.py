"""Bad inputs to the BPTT study tools: trace_bptt, rtrl_gradients, mg.checkpoint and
RNN(checkpoint_every=...)."""

import numpy as np

import minigrad as mg
import minigrad_layers as mgl
from catalogue.case import Case

X = np.ones((2, 4, 3))


def _mean(out):
    return mg.mean(out)


def _trace():
    return mgl.inspect.trace_bptt(mgl.SimpleRNN(2, name="rnn"), X, _mean)


CASES = [
    Case(
        "trace_bptt of a dense layer",
        lambda: mgl.inspect.trace_bptt(mgl.Dense(2), X, _mean),
        TypeError,
        ("expects a recurrent layer", "received Dense"),
    ),
    Case(
        "trace_bptt with a loss that is not a scalar",
        lambda: mgl.inspect.trace_bptt(mgl.SimpleRNN(2), X, lambda out: out),
        ValueError,
        ("loss_fn must return a scalar Tensor", "(2, 2)"),
    ),
    Case(
        "jacobian singular values of a step past the end",
        lambda: _trace().jacobian_singular_values(4),
        ValueError,
        ("t must be a step in [0, 4)", "received 4"),
    ),
    Case(
        "rtrl of a backwards layer",
        lambda: mgl.inspect.rtrl_gradients(mgl.SimpleRNN(2, go_backwards=True), X, _mean),
        ValueError,
        ("go_backwards=True", "expected all of go_backwards"),
    ),
    Case(
        "rtrl given a matrix",
        lambda: mgl.inspect.rtrl_gradients(mgl.SimpleRNN(2), np.ones((2, 3)), _mean),
        ValueError,
        ("(batch, time, features)", "received (2, 3)"),
    ),
    Case(
        "rtrl with dropout",
        lambda: mgl.inspect.rtrl_gradients(mgl.GRU(2, dropout=0.5, name="gru"), X, _mean),
        ValueError,
        ("deterministic cell", "'gru' has dropout"),
    ),
    Case(
        "checkpoint of something that is not a function",
        lambda: mg.checkpoint(3, mg.tensor([1.0])),
        TypeError,
        ("expects a function first", "received int"),
    ),
    Case(
        "checkpoint of a function returning a number",
        lambda: _checkpoint_under_tape(lambda v: 1.0),
        TypeError,
        ("must return a Tensor or a nested structure of Tensors", "returned float"),
    ),
    Case(
        "checkpoint_every of zero",
        lambda: mgl.LSTM(2, checkpoint_every=0),
        ValueError,
        ("checkpoint_every must be None", "positive int", "received 0"),
    ),
    Case(
        "checkpoint_every with truncate_gradient",
        lambda: mgl.LSTM(2, checkpoint_every=5, truncate_gradient=3),
        ValueError,
        ("checkpoint_every=5 and truncate_gradient=3 cannot be combined",),
    ),
]


def _checkpoint_under_tape(fn):
    x = mg.Variable([1.0, 2.0])
    with mg.GradientTape():
        return mg.checkpoint(fn, x)
