"""trace_bptt(layer, x, loss_fn or y, model=...) on a recurrent layer inside a model, against
models written out in numpy around the BPTT loops of ``minigrad.recurrent_reference``
(Embedding -> LSTM -> Dense with a mask, stacked cells, both directions of a Bidirectional) and
finite differences of the compiled loss."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad import recurrent_reference as ref


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


def _dense(out, kernel, bias):
    return out @ kernel + bias


def _assert_grads(trace, expected_state_grads):
    for t, expected in enumerate(expected_state_grads):
        got = mg.nest.flatten(trace.state_grads[t])
        for g, e in zip(got, mg.nest.flatten(expected), strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-13)


IDS = np.array([[3, 1, 4, 1, 5, 0, 0], [0, 0, 2, 6, 5, 3, 5], [8, 9, 7, 9, 3, 2, 3]])


def _embedding_lstm_dense():
    return mgl.Sequential(
        [
            mgl.Input((7,), dtype="int64"),
            mgl.Embedding(10, 3, mask_zero=True),
            mgl.LSTM(4, return_sequences=True, name="lstm"),
            mgl.Dense(2),
        ]
    )


@pytest.mark.parametrize("by_name", [True, False])
def test_embedding_lstm_dense_against_numpy(by_name):
    model = _embedding_lstm_dense()
    model(IDS)
    cot = np.random.default_rng(1).normal(size=(3, 7, 2))
    lstm = model.get_layer("lstm")
    trace = mgl.inspect.trace_bptt(
        "lstm" if by_name else lstm, IDS, lambda out: mg.sum(out * cot), model=model
    )

    table, (W, U, b), (Wd, bd) = (
        model.layers[0].get_weights()[0],
        lstm.get_weights(),
        model.layers[-1].get_weights(),
    )
    mask, zeros = IDS != 0, np.zeros((3, 4))
    ys, *_, cache = ref.lstm_forward(table[IDS], zeros, zeros, W, U, b, mask=mask)
    loss = np.sum(_dense(ys, Wd, bd) * cot)
    state_grads = []
    _, _, _, dW, dU, db = ref.lstm_backward(cot @ Wd.T, zeros, zeros, cache, state_grads)

    assert trace.layer is lstm and trace.steps == 7 and trace.input_grads is None
    assert trace.loss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_array_equal(trace._step_masks[5], mask[:, 5])
    _assert_grads(trace, state_grads)
    for weight, expected in zip(lstm.weights, (dW, dU, db), strict=True):
        np.testing.assert_allclose(trace.param_grads_by_step[weight.name].sum(0), expected)
    np.testing.assert_allclose(
        trace.jacobian_norms(), trace.jacobian_norms(method="tape"), rtol=1e-10
    )


def test_targets_use_the_compiled_loss():
    """``y`` instead of a loss_fn: the loss is evaluate()'s (masked steps left out), and the
    LSTM kernel's gradient is its finite differences."""
    model = _embedding_lstm_dense()
    model.compile(optimizer="sgd", loss="mse")
    y = np.random.default_rng(2).normal(size=(3, 7, 2))
    trace = mgl.inspect.trace_bptt("lstm", IDS, y, model=model)
    assert trace.loss == pytest.approx(model.evaluate(IDS, y, verbose=0), rel=1e-12)
    kernel = model.get_layer("lstm").cell.kernel
    by_step = trace.param_grads_by_step[kernel.name].sum(0)
    original, eps = kernel.numpy().copy(), 1e-6
    for index in [(0, 0), (1, 5), (2, 15)]:
        losses = []
        for sign in (1, -1):
            shifted = original.copy()
            shifted[index] += sign * eps
            kernel.assign(shifted)
            losses.append(model.evaluate(IDS, y, verbose=0))
        kernel.assign(original)
        fd = (losses[0] - losses[1]) / (2 * eps)
        assert by_step[index] == pytest.approx(fd, rel=1e-5, abs=1e-9)


def test_stacked_cells_in_a_model_have_per_cell_state_grads():
    """RNN([SimpleRNNCell, LSTMCell]) between Dense layers is, step for step, the two cells as
    two layers: the reference loops in sequence, the first fed back what the second sends."""
    x = np.random.default_rng(3).normal(size=(3, 5, 2))
    cot = np.random.default_rng(4).normal(size=(3, 5, 2))
    rnn = mgl.RNN([mgl.SimpleRNNCell(3), mgl.LSTMCell(4)], return_sequences=True, name="stack")
    inputs = mgl.Input((5, 2))
    model = mgl.Model(inputs, mgl.Dense(2)(rnn(mgl.Dense(2, activation="tanh")(inputs))))
    trace = mgl.inspect.trace_bptt(rnn, x, lambda out: mg.sum(out * cot), model=model)

    (W0, b0), (Wd, bd) = model.layers[1].get_weights(), model.layers[-1].get_weights()
    simple_weights, lstm_weights = rnn.get_weights()[:3], rnn.get_weights()[3:]
    x_rnn = np.tanh(_dense(x, W0, b0))
    h1, h2 = np.zeros((3, 3)), np.zeros((3, 4))
    ys1, _, cache1 = ref.simple_rnn_forward(x_rnn, h1, *simple_weights)
    ys2, *_, cache2 = ref.lstm_forward(ys1, h2, h2, *lstm_weights)
    grads2, grads1 = [], []
    dys1, *_ = ref.lstm_backward(cot @ Wd.T, h2, h2, cache2, grads2)
    dx_rnn, *_ = ref.simple_rnn_backward(dys1, h1, cache1, grads1)

    assert trace.loss == pytest.approx(np.sum(_dense(ys2, Wd, bd) * cot), rel=1e-12)
    _assert_grads(trace, [[g1[0], g2] for g1, g2 in zip(grads1, grads2, strict=True)])
    dx = (dx_rnn * (1 - x_rnn**2)) @ W0.T  # back through the first Dense
    np.testing.assert_allclose(trace.input_grads, dx, rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(trace.grad_norms, [np.linalg.norm(g[0]) for g in grads2])


def test_both_directions_of_a_bidirectional():
    """Each direction is its own trace; the backward one runs over the reversed input and gets
    the gradient of its half of the merged sequence, reversed into its processing order."""
    x = np.random.default_rng(5).normal(size=(2, 6, 3))
    cot = np.random.default_rng(6).normal(size=(2, 6, 2))
    inputs = mgl.Input((6, 3))
    bidirectional = mgl.Bidirectional(mgl.GRU(4, return_sequences=True, name="gru"))
    model = mgl.Model(inputs, mgl.Dense(2)(bidirectional(inputs)))
    model(x)
    Wd, bd = model.layers[-1].get_weights()
    forward_w = bidirectional.forward_layer.get_weights()
    backward_w = bidirectional.backward_layer.get_weights()
    h0 = np.zeros((2, 4))
    y_forward, _, cache_f = ref.gru_forward(x, h0, *forward_w)
    y_backward, _, cache_b = ref.gru_forward(x[:, ::-1], h0, *backward_w)  # processing order
    merged = np.concatenate([y_forward, y_backward[:, ::-1]], axis=-1)
    d_merged = cot @ Wd.T
    grads_f, grads_b = [], []
    ref.gru_backward(d_merged[..., :4], h0, cache_f, grads_f)
    ref.gru_backward(d_merged[:, ::-1, 4:], h0, cache_b, grads_b)

    def loss_fn(out):
        return mg.sum(out * cot)

    for name, expected in [("forward_gru", grads_f), ("backward_gru", grads_b)]:
        trace = mgl.inspect.trace_bptt(name, x, loss_fn, model=model)
        assert trace.layer.name == name
        assert trace.loss == pytest.approx(np.sum(_dense(merged, Wd, bd) * cot), rel=1e-12)
        _assert_grads(trace, expected)
    backward = mgl.inspect.trace_bptt(bidirectional.backward_layer, x, loss_fn, model=model)
    np.testing.assert_allclose(
        backward.states[0][0], cache_b[-1][1][0], rtol=1e-12
    )  # h after step 0


def test_bad_model_arguments():
    model = _embedding_lstm_dense()
    model(IDS)

    def loss_fn(out):
        return mg.sum(out)

    with pytest.raises(ValueError, match=r"no layer named 'gru'.*\['lstm'\]"):
        mgl.inspect.trace_bptt("gru", IDS, loss_fn, model=model)
    with pytest.raises(ValueError, match="is not a layer of"):
        mgl.inspect.trace_bptt(mgl.LSTM(2), IDS, loss_fn, model=model)
    with pytest.raises(TypeError, match="recurrent layer.*Dense"):
        mgl.inspect.trace_bptt(model.layers[-1], IDS, loss_fn, model=model)
    with pytest.raises(ValueError, match="mask cannot be given"):
        mgl.inspect.trace_bptt("lstm", IDS, loss_fn, mask=IDS != 0, model=model)
    with pytest.raises(ValueError, match="no compiled loss"):
        mgl.inspect.trace_bptt("lstm", IDS, np.zeros((3, 7, 2)), model=model)
    with pytest.raises(TypeError, match="Model or Layer"):
        mgl.inspect.trace_bptt("lstm", IDS, loss_fn, model="sequential")

    inputs = mgl.Input((4, 2))
    bidirectional = mgl.Bidirectional(mgl.LSTM(2, name="lstm"))
    pair = mgl.Model(inputs, bidirectional(inputs))
    with pytest.raises(TypeError, match="'forward_lstm' or layer='backward_lstm'"):
        mgl.inspect.trace_bptt(bidirectional, np.ones((1, 4, 2)), loss_fn, model=pair)
