"""The written-out step Jacobians of ``mgl.inspect.jacobians`` against the tape's (the cell called
again under a tape, ``method="tape"``), the numpy references of ``minigrad.recurrent_reference``
and finite differences; ``spectral_norms`` against numpy's SVD."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad import recurrent_reference as ref
from minigrad_layers.inspect.jacobians import has_analytic_jacobian, spectral_norms


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


def _inputs(batch=3, steps=5, features=2, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, steps, features))


def _mask(batch=3, steps=5):
    mask = np.ones((batch, steps), dtype=bool)
    mask[0, 3:] = False
    mask[1, :2] = False
    return mask


def _trace(layer, x, mask=None):
    return mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(mg.tanh(out)), mask=mask)


def _randomise(layer, seed=1):
    """Weights of size ~1 (biases included), so that gates are far from their defaults."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(scale=0.8, size=w.shape) for w in layer.get_weights()])


LAYERS = {
    "simple_rnn": lambda: mgl.SimpleRNN(4, return_sequences=True),
    "simple_rnn_relu_no_bias": lambda: mgl.SimpleRNN(4, activation="relu", use_bias=False),
    "lstm": lambda: mgl.LSTM(4, return_sequences=True),
    "lstm_hard_sigmoid": lambda: mgl.LSTM(4, recurrent_activation="hard_sigmoid"),
    "lstm_linear_no_bias": lambda: mgl.LSTM(4, activation="linear", use_bias=False),
    "gru": lambda: mgl.GRU(4, return_sequences=True),
    "gru_reset_before": lambda: mgl.GRU(4, reset_after=False),
    "gru_no_bias": lambda: mgl.GRU(4, use_bias=False, activation="relu"),
    "gru_reset_before_no_bias": lambda: mgl.GRU(4, reset_after=False, use_bias=False),
    "stacked": lambda: mgl.RNN([mgl.SimpleRNNCell(3), mgl.LSTMCell(4), mgl.GRUCell(4)]),
    "stacked_lstm_first": lambda: mgl.RNN([mgl.LSTMCell(3), mgl.SimpleRNNCell(4)]),
    "stacked_one": lambda: mgl.RNN([mgl.LSTMCell(4)]),
}


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("name", list(LAYERS))
def test_written_out_jacobians_are_the_tapes(name, masked):
    x = _inputs()
    layer = LAYERS[name]()
    layer(x)  # build, then move the weights away from their initial values
    _randomise(layer)
    trace = _trace(layer, x, _mask() if masked else None)
    assert trace._analytic_input is not None  # the written-out path is the one under test
    for t in range(trace.steps):
        np.testing.assert_allclose(
            trace.jacobian(t), trace.jacobian(t, method="tape"), rtol=1e-10, atol=1e-12
        )
    np.testing.assert_allclose(
        trace.jacobian_norms(), trace.jacobian_norms(method="tape"), rtol=1e-10
    )
    if masked:
        np.testing.assert_array_equal(trace.jacobian(4)[0], np.eye(4))  # row 0 masked at t=4


def test_lstm_and_gru_jacobians_are_the_references():
    """Against the hand-written ``*_jacobian`` of the reference loops (c_{t-1} held fixed)."""
    x, mask = _inputs(steps=4), _mask(steps=4)
    zeros = np.zeros((3, 4))
    for layer in (mgl.LSTM(4), mgl.GRU(4), mgl.GRU(4, reset_after=False)):
        layer(x)
        _randomise(layer)
        trace = _trace(layer, x, mask)
        if isinstance(layer.cell, mgl.LSTMCell):
            *_, cache = ref.lstm_forward(x, zeros, zeros, *layer.get_weights(), mask=mask)
            reference = ref.lstm_jacobian
        else:
            weights = layer.get_weights()
            *_, cache = ref.gru_forward(x, zeros, *weights, layer.cell.reset_after, mask=mask)
            reference = ref.gru_jacobian
        for t in range(4):
            np.testing.assert_allclose(trace.jacobian(t), reference(cache, t), rtol=1e-10)


def test_lstm_jacobian_holds_the_cell_state_fixed():
    """Finite differences of h_t in h_{t-1} alone, c_{t-1} unchanged."""
    x = _inputs(steps=3)
    layer = mgl.LSTM(4)
    layer(x)
    _randomise(layer)
    trace = _trace(layer, x)
    h, c = trace.states[1]
    eps, expected = 1e-6, np.zeros((3, 4, 4))
    for j in range(4):
        step = np.zeros_like(h)
        step[:, j] = eps
        plus, _ = layer.cell.call(mg.tensor(x[:, 2]), [mg.tensor(h + step), mg.tensor(c)])
        minus, _ = layer.cell.call(mg.tensor(x[:, 2]), [mg.tensor(h - step), mg.tensor(c)])
        expected[:, :, j] = (plus.numpy() - minus.numpy()) / (2 * eps)
    np.testing.assert_allclose(trace.jacobian(2), expected, rtol=1e-6, atol=1e-9)


class Leaky(mgl.Layer):
    """A custom cell: ``h_t = 0.5 h_{t-1} + tanh(x_t W + h_{t-1} U)``."""

    state_size = 4

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], 4))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(4, 4))

    def call(self, x, states):
        h = 0.5 * states[0] + mg.tanh(mg.matmul(x, self.kernel) + states[0] @ self.recurrent_kernel)
        return h, [h]


class SubclassedSimpleRNNCell(mgl.SimpleRNNCell):
    def call(self, inputs, states, training=None):
        h, _ = super().call(inputs, states, training)
        return 2.0 * h, [2.0 * h]


@pytest.mark.parametrize(
    "make",
    [
        lambda: mgl.RNN(Leaky()),
        lambda: mgl.RNN(SubclassedSimpleRNNCell(4)),
        lambda: mgl.RNN([Leaky(), mgl.SimpleRNNCell(4)]),  # the cell below is not built-in
        lambda: mgl.SimpleRNN(4, activation=lambda z: mg.softmax(z)),
    ],
)
def test_other_cells_fall_back_to_the_tape(make):
    x = _inputs()
    layer = make()
    trace = _trace(layer, x, _mask())
    assert trace._analytic_input is None
    expected = [
        np.linalg.svd(trace.jacobian(t, method="tape"), compute_uv=False)[:, 0].mean()
        for t in range(trace.steps)
    ]
    np.testing.assert_allclose(trace.jacobian_norms(), expected, rtol=1e-10)
    np.testing.assert_allclose(trace.jacobian(2), trace.jacobian(2, method="tape"))


def test_float32_layer_jacobians_are_computed_in_float64():
    mg.set_floatx("float32")
    x = _inputs().astype("float32")
    layer = mgl.LSTM(4)
    trace = _trace(layer, x)
    jacobian = trace.jacobian(3)
    assert jacobian.dtype == np.float64
    np.testing.assert_allclose(jacobian, trace.jacobian(3, method="tape"), rtol=1e-4, atol=1e-6)


def test_spectral_norms_are_the_largest_singular_values():
    rng = np.random.default_rng(0)
    matrices = rng.normal(size=(50, 7, 7)) * rng.uniform(0.01, 10, size=(50, 1, 1))
    matrices[0] = np.eye(7)
    matrices[1] = 0.0
    expected = np.linalg.svd(matrices, compute_uv=False)[:, 0]
    np.testing.assert_allclose(spectral_norms(matrices), expected, rtol=1e-12)


def test_jacobian_norms_in_chunks(monkeypatch):
    """Chunks of one step each give the same norms as one chunk for all steps."""
    from minigrad_layers.inspect import trace as trace_module

    x = _inputs(steps=6)
    layer = mgl.GRU(4)
    whole = _trace(layer, x).jacobian_norms()
    monkeypatch.setattr(trace_module, "_CHUNK_ELEMENTS", 1)
    np.testing.assert_allclose(_trace(layer, x).jacobian_norms(), whole, rtol=1e-14)


def test_has_analytic_jacobian():
    assert not has_analytic_jacobian(mgl.LSTMCell(3))  # not built yet
    cell = mgl.GRUCell(3)
    cell.build((1, 2))
    assert has_analytic_jacobian(cell)


def test_bad_method():
    trace = _trace(mgl.SimpleRNN(2), _inputs(steps=2))
    with pytest.raises(ValueError, match="'auto' or 'tape'"):
        trace.jacobian(0, method="svd")
    with pytest.raises(ValueError, match="'auto' or 'tape'"):
        trace.jacobian_norms(method="exact")
