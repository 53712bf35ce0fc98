"""The tape's backpropagation through time against the hand-written numpy loops of
``numpy_bptt.py``: outputs, final states and every gradient (dx, dh0, dW, dU, db), with and without
a mask."""

import numpy as np
import numpy_bptt as ref
import pytest

import minigrad as mg
import minigrad_layers as mgl

B, T, D, H = 3, 7, 4, 5


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


def make_mask(kind):
    if kind is None:
        return None
    mask = np.ones((B, T), dtype=bool)
    mask[0, 5:] = False  # right padding
    mask[1, :2] = False  # left padding: the output before the first kept step is zeros
    mask[1, 4] = False  # a hole
    if kind == "with_empty_row":
        mask[2] = False  # nothing kept: output zeros, final state = h0
    return mask


def data(seed=0, weights=("W", "U", "b"), gates=1):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(B, T, D)),
        "h0": rng.normal(size=(B, H)),
        "c0": rng.normal(size=(B, H)),
        "W": 0.5 * rng.normal(size=(D, gates * H)),
        "U": 0.5 * rng.normal(size=(H, gates * H)),
        "b": 0.5 * rng.normal(size=(gates * H,)),
        "dys": rng.normal(size=(B, T, H)),
        "dh": rng.normal(size=(B, H)),
        "dc": rng.normal(size=(B, H)),
    }


def close(got, expected):
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mask_kind", [None, "padded", "with_empty_row"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_simple_rnn_layer_matches_numpy_bptt(mask_kind, return_sequences):
    d, mask = data(), make_mask(mask_kind)
    if not return_sequences:  # the loss reads only the last output
        d["dys"][:, :-1] = 0.0
    layer = mgl.SimpleRNN(H, return_sequences=return_sequences, return_state=True)
    x, h0 = mg.tensor(d["x"]), mg.tensor(d["h0"])
    layer(x)
    layer.set_weights([d["W"], d["U"], d["b"]])
    with mg.GradientTape() as tape:
        tape.watch([x, h0])
        out, h = layer(x, initial_state=h0, mask=None if mask is None else mg.tensor(mask))
        dout = d["dys"] if return_sequences else d["dys"][:, -1]
        loss = mg.sum(out * dout) + mg.sum(h * d["dh"])
    grads = tape.gradient(loss, [x, h0, *layer.weights])

    ys, h_ref, cache = ref.simple_rnn_forward(d["x"], d["h0"], d["W"], d["U"], d["b"], mask)
    close(out, ys if return_sequences else ys[:, -1])
    close(h, h_ref)
    for got, expected in zip(grads, ref.simple_rnn_backward(d["dys"], d["dh"], cache), strict=True):
        close(got, expected)


def test_simple_rnn_cell_loop_matches_numpy_bptt():
    """The same check without the RNN layer: the cell in a plain Python loop."""
    d = data(seed=1)
    cell = mgl.SimpleRNNCell(H)
    cell.build((None, D))
    cell.set_weights([d["W"], d["U"], d["b"]])
    x, h0 = mg.tensor(d["x"]), mg.tensor(d["h0"])
    with mg.GradientTape() as tape:
        tape.watch([x, h0])
        states, loss = [h0], 0.0
        for t in range(T):
            y, states = cell.call(x[:, t], states)
            loss = loss + mg.sum(y * d["dys"][:, t])
        loss = loss + mg.sum(states[0] * d["dh"])
    grads = tape.gradient(loss, [x, h0, cell.kernel, cell.recurrent_kernel, cell.bias])
    _, _, cache = ref.simple_rnn_forward(d["x"], d["h0"], d["W"], d["U"], d["b"])
    for got, expected in zip(grads, ref.simple_rnn_backward(d["dys"], d["dh"], cache), strict=True):
        close(got, expected)


@pytest.mark.parametrize("mask_kind", [None, "with_empty_row"])
def test_lstm_layer_matches_numpy_bptt(mask_kind):
    d, mask = data(seed=2, gates=4), make_mask(mask_kind)
    layer = mgl.LSTM(H, return_sequences=True, return_state=True)
    x, h0, c0 = mg.tensor(d["x"]), mg.tensor(d["h0"]), mg.tensor(d["c0"])
    layer(x)
    layer.set_weights([d["W"], d["U"], d["b"]])
    with mg.GradientTape() as tape:
        tape.watch([x, h0, c0])
        out, h, c = layer(x, initial_state=[h0, c0], mask=None if mask is None else mg.tensor(mask))
        loss = mg.sum(out * d["dys"]) + mg.sum(h * d["dh"]) + mg.sum(c * d["dc"])
    grads = tape.gradient(loss, [x, h0, c0, *layer.weights])

    ys, h_ref, c_ref, cache = ref.lstm_forward(
        d["x"], d["h0"], d["c0"], d["W"], d["U"], d["b"], mask
    )
    close(out, ys)
    close(h, h_ref)
    close(c, c_ref)
    expected = ref.lstm_backward(d["dys"], d["dh"], d["dc"], cache)
    for got, want in zip(grads, expected, strict=True):
        close(got, want)


def test_long_sequence_bptt():
    """400 steps: the reverse sweep is a loop (no recursion) and agrees with numpy."""
    rng = np.random.default_rng(3)
    x, W = rng.normal(size=(2, 400, 3)), 0.3 * rng.normal(size=(3, 4))
    U, b = 0.3 * rng.normal(size=(4, 4)), np.zeros(4)
    layer = mgl.SimpleRNN(4)
    layer(x)
    layer.set_weights([W, U, b])
    with mg.GradientTape() as tape:
        loss = mg.sum(layer(x))
    dW, dU, db = tape.gradient(loss, layer.weights)
    dys = np.zeros((2, 400, 4))
    dys[:, -1] = 1.0
    _, _, cache = ref.simple_rnn_forward(x, np.zeros((2, 4)), W, U, b)
    _, _, dW_ref, dU_ref, db_ref = ref.simple_rnn_backward(dys, np.zeros((2, 4)), cache)
    for got, expected in [(dW, dW_ref), (dU, dU_ref), (db, db_ref)]:
        close(got, expected)
