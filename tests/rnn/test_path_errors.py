"""The fused path and the per-step loop accept and reject exactly the same inputs, with the same
exception and message naming the layer; a cell whose states do not match its state_size fails at
its first step, naming the cell."""

import re

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.layers.rnn.loop import StepObserver

B, T, D, H = 2, 3, 4, 5
RNG = np.random.default_rng(0)
X = RNG.normal(size=(B, T, D))


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


def _layers(kind, **kwargs):
    """The same layer three times: fused (default), unrolled, and fused-capable but observed."""
    fused = kind(H, name="rnn", **kwargs)
    unrolled = kind(H, name="rnn", unroll=True, **kwargs)
    observed = kind(H, name="rnn", **kwargs)
    observed.step_observer = StepObserver()  # an observer forces the per-step loop
    for layer in (fused, unrolled, observed):
        layer(X)  # built on good data
        layer.set_weights(fused.get_weights())
    return fused, unrolled, observed


def _states(kind, batch=B, units=H, dtype=np.float64):
    count = 2 if kind is mgl.LSTM else 1
    return [np.ones((batch, units), dtype) for _ in range(count)]


KINDS = [mgl.SimpleRNN, mgl.LSTM, mgl.GRU]

BAD = {
    "too many initial states": lambda k: {"initial_state": _states(k) + [np.ones((B, H))]},
    "initial state of the wrong size": lambda k: {"initial_state": _states(k, units=H + 1)},
    "initial state of the wrong batch": lambda k: {"initial_state": _states(k, batch=B + 1)},
    "mask of the wrong shape": lambda k: {"mask": np.ones((B, T + 1), bool)},
    "mask holding 0.5": lambda k: {"mask": np.full((B, T), 0.5)},
    "mask of strings": lambda k: {"mask": np.full((B, T), "x")},
    "constants to a cell without them": lambda k: {"constants": [np.ones((B, 2))]},
    "input of rank 2": lambda k: {"inputs": np.ones((B, D))},
    "input of rank 4": lambda k: {"inputs": np.ones((B, T, D, 1))},
    "input of another feature size": lambda k: {"inputs": np.ones((B, T, D + 1))},
    "input without steps": lambda k: {"inputs": np.ones((B, 0, D))},
}


def _outcome(layer, kwargs):
    kwargs = dict(kwargs)
    inputs = kwargs.pop("inputs", X)
    try:
        layer(inputs, **kwargs)
    except (ValueError, TypeError) as error:
        return type(error), str(error)
    return None, "no error"


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("case", sorted(BAD))
def test_both_paths_reject_alike(kind, case):
    kwargs = BAD[case](kind)
    outcomes = [_outcome(layer, kwargs) for layer in _layers(kind)]
    assert outcomes[0][0] is not None, f"the fused path accepted {case}"
    assert outcomes[1] == outcomes[0] and outcomes[2] == outcomes[0]
    assert "rnn" in outcomes[0][1]  # names the layer


GOOD = {
    "integer initial states": lambda k: {"initial_state": _states(k, dtype=np.int64)},
    "float32 initial states": lambda k: {"initial_state": _states(k, dtype=np.float32)},
    "integer inputs": lambda k: {"inputs": np.arange(B * T * D).reshape(B, T, D) % 3},
    "0/1 integer mask": lambda k: {"mask": np.array([[1, 1, 0], [1, 0, 0]])},
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("case", sorted(GOOD))
def test_both_paths_accept_alike_and_cast(kind, case):
    kwargs = dict(GOOD[case](kind))
    inputs = kwargs.pop("inputs", X)
    results = [layer(inputs, **kwargs) for layer in _layers(kind)]
    assert all(r.dtype == np.float64 for r in results)
    np.testing.assert_allclose(results[1].numpy(), results[0].numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[2].numpy(), results[0].numpy(), rtol=1e-10, atol=1e-12)


class WrongStateCell(mgl.Layer):
    """state_size 3, but the step returns states of 4 units (or an output of 2 when it has
    output_size 3)."""

    state_size = 3

    def __init__(self, state_units=4, output_units=3, output_size=None, **kwargs):
        super().__init__(**kwargs)
        self.state_units, self.output_units = state_units, output_units
        if output_size is not None:
            self.output_size = output_size

    def call(self, inputs, states):
        batch = inputs.shape[0]
        return mg.zeros((batch, self.output_units)), [mg.zeros((batch, self.state_units))]


def test_a_state_of_the_wrong_shape_names_the_cell():
    layer = mgl.RNN(WrongStateCell(name="x"), name="rnn")
    expected = (
        "The cell 'x' (WrongStateCell) of layer 'rnn' returned state 0 of shape (2, 4), "
        "expected (2, 3) from its state_size 3"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        layer(X)


def test_an_output_of_the_wrong_shape_names_the_cell():
    layer = mgl.RNN(WrongStateCell(3, 2, output_size=3, name="x"), name="rnn")
    with pytest.raises(ValueError, match=re.escape("output of shape (2, 2), expected (2, 3)")):
        layer(X)
    # without output_size, the output is the cell's business (as Keras allows)
    assert mgl.RNN(WrongStateCell(3, 2))(X).shape == (B, 2)


@pytest.mark.parametrize("unroll", [False, True])
def test_built_in_cells_need_vector_steps(unroll):
    with pytest.raises(ValueError, match=re.escape("received steps of shape (2, 4, 1)")):
        mgl.GRU(H, unroll=unroll)(np.ones((B, T, D, 1)))
