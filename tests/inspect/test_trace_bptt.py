"""trace_bptt against an independent numpy BPTT (SimpleRNN), finite differences (LSTM/GRU
Jacobians) and the tape's own full gradients."""

import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


def _data(batch=3, steps=6, features=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, steps, features)), rng.normal(size=(batch, steps, 4))


def numpy_masked_bptt(x, mask, W, U, b, cot):
    """SimpleRNN with return_sequences and loss = sum(cot * y), written out by hand.

    Forward:  hnew_t = tanh(x_t W + h_{t-1} U + b);  h_t = m_t hnew_t + (1 - m_t) h_{t-1};
              y_t = m_t h_t + (1 - m_t) y_{t-1}   (y_{-1} = 0: a masked step repeats the output)
    Backward: dY_t = cot_t + (1 - m_{t+1}) dY_{t+1}                 (total dL/dy_t)
              dh_t = m_t dY_t + (1 - m_{t+1}) dh_{t+1} + dz_{t+1} U^T  (total dL/dh_t)
              dz_t = m_t dh_t (1 - hnew_t^2);  dW_t = x_t^T dz_t;  dU_t = h_{t-1}^T dz_t
    """
    batch, steps, _ = x.shape
    m = mask[:, :, None].astype(float)
    hs, hnews, ys = [np.zeros((batch, U.shape[0]))], [], [np.zeros((batch, U.shape[0]))]
    for t in range(steps):
        hnew = np.tanh(x[:, t] @ W + hs[-1] @ U + b)
        hnews.append(hnew)
        hs.append(m[:, t] * hnew + (1 - m[:, t]) * hs[-1])
        ys.append(m[:, t] * hs[-1] + (1 - m[:, t]) * ys[-1])
    loss = sum(np.sum(cot[:, t] * ys[t + 1]) for t in range(steps))
    dh = [None] * steps
    dW, dU, db = (
        np.zeros((steps, *W.shape)),
        np.zeros((steps, *U.shape)),
        np.zeros((steps, *b.shape)),
    )
    dx = np.zeros_like(x)
    dY_next = dh_next = dz_next = 0.0
    m_next = np.zeros_like(m[:, 0])
    for t in reversed(range(steps)):
        dY = cot[:, t] + (1 - m_next) * dY_next
        dh[t] = m[:, t] * dY + (1 - m_next) * dh_next + (dz_next @ U.T if t < steps - 1 else 0.0)
        dz = m[:, t] * dh[t] * (1 - hnews[t] ** 2)
        dW[t], dU[t], db[t] = x[:, t].T @ dz, hs[t].T @ dz, dz.sum(0)
        dx[:, t] = dz @ W.T
        dY_next, dh_next, dz_next, m_next = dY, dh[t], dz, m[:, t]
    return loss, hs[1:], hnews, dh, dW, dU, db, dx


@pytest.mark.parametrize("masked", [False, True])
def test_simple_rnn_trace_matches_hand_written_bptt(masked):
    x, cot = _data()
    mask = np.ones(x.shape[:2], dtype=bool)
    if masked:
        mask[0, 4:] = False  # right padding
        mask[1, :2] = False  # left padding
        mask[2, 3] = False  # a hole
    layer = mgl.SimpleRNN(4, return_sequences=True)
    trace = mgl.inspect.trace_bptt(
        layer, x, lambda out: mg.sum(out * cot), mask=mask if masked else None
    )
    W, U, b = layer.get_weights()
    loss, hs, hnews, dh, dW, dU, db, dx = numpy_masked_bptt(x, mask, W, U, b, cot)

    assert trace.steps == 6 and trace.loss == pytest.approx(loss, rel=1e-12)
    for t in range(6):
        np.testing.assert_allclose(trace.states[t][0], hs[t], rtol=1e-12)
        np.testing.assert_allclose(trace.state_grads[t][0], dh[t], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(trace.grad_norms, [np.linalg.norm(d) for d in dh], rtol=1e-10)
    names = [w.name for w in layer.weights]
    for name, expected in zip(names, [dW, dU, db], strict=True):
        np.testing.assert_allclose(trace.param_grads_by_step[name], expected, atol=1e-12)
    np.testing.assert_allclose(trace.input_grads, dx, atol=1e-12)

    for t in range(6):  # analytically: dh_t/dh_{t-1} = diag(1 - hnew_t^2) U^T, identity if masked
        jac = (1 - hnews[t] ** 2)[:, :, None] * U.T[None]
        jac[~mask[:, t]] = np.eye(4)
        expected = np.linalg.svd(jac, compute_uv=False)
        np.testing.assert_allclose(trace.jacobian_singular_values(t), expected, rtol=1e-10)
    np.testing.assert_allclose(
        trace.jacobian_norms(),
        [trace.jacobian_singular_values(t)[:, 0].mean() for t in range(6)],
    )


def test_go_backwards_counts_steps_in_processing_order():
    x, cot = _data()
    layer = mgl.SimpleRNN(4, go_backwards=True, return_sequences=True)
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out * cot))
    W, U, b = layer.get_weights()
    _, hs, _, dh, dW, *_ = numpy_masked_bptt(x[:, ::-1], np.ones((3, 6), bool), W, U, b, cot)
    for t in range(6):
        np.testing.assert_allclose(trace.states[t][0], hs[t], rtol=1e-12)
        np.testing.assert_allclose(trace.state_grads[t][0], dh[t], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(trace.param_grads_by_step[layer.weights[0].name], dW, atol=1e-12)


def _full_gradients(layer, x, loss_fn, **kwargs):
    with mg.GradientTape() as tape:
        loss = loss_fn(layer(mg.tensor(x), **kwargs))
    return dict(
        zip([w.name for w in layer.weights], tape.gradient(loss, layer.weights), strict=True)
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: mgl.LSTM(3),
        lambda: mgl.GRU(3),
        lambda: mgl.GRU(3, reset_after=False, go_backwards=True),
        lambda: mgl.RNN([mgl.SimpleRNNCell(3), mgl.LSTMCell(4), mgl.GRUCell(2)]),
    ],
)
def test_param_grads_by_step_sum_to_the_full_gradient(make):
    x, _ = _data(steps=5)
    mask = np.ones((3, 5), bool)
    mask[1, 3:] = False

    def loss_fn(out):
        return mg.sum(mg.tanh(out) * 0.7)

    layer = make()
    trace = mgl.inspect.trace_bptt(layer, x, loss_fn, mask=mask)
    full = _full_gradients(layer, x, loss_fn, mask=mask)
    assert set(trace.param_grads_by_step) == set(full)
    for name, grad in full.items():
        assert trace.param_grads_by_step[name].shape == (5, *grad.shape)
        np.testing.assert_allclose(trace.param_grads_by_step[name].sum(0), grad.numpy(), atol=1e-12)
    assert trace.loss == pytest.approx(float(loss_fn(layer(mg.tensor(x), mask=mask))))


def test_lstm_states_and_grads_are_nested_like_the_layer():
    x, _ = _data(steps=4)
    layer = mgl.LSTM(3)
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out))
    assert len(trace.states) == len(trace.state_grads) == 4
    h, c = trace.state_grads[3]
    assert h.shape == c.shape == (3, 3)
    np.testing.assert_allclose(h, np.ones((3, 3)))  # the last h feeds the loss directly
    assert trace.grad_norms[3] == pytest.approx(3.0)


def test_stacked_grad_norms_follow_the_last_cells_first_state():
    x, _ = _data(steps=4)
    layer = mgl.RNN([mgl.LSTMCell(3), mgl.SimpleRNNCell(2)], return_sequences=True)
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out * out))
    h_lstm_c_lstm, h_simple = trace.state_grads[2]
    assert len(h_lstm_c_lstm) == 2 and h_simple.shape == (3, 2)
    np.testing.assert_allclose(trace.grad_norms[2], np.linalg.norm(h_simple))
    assert trace.jacobian_singular_values(2).shape == (3, 2)


@pytest.mark.parametrize(
    "make", [lambda: mgl.LSTM(3), lambda: mgl.GRU(3), lambda: mgl.GRU(3, reset_after=False)]
)
def test_lstm_gru_jacobians_match_finite_differences(make):
    x, _ = _data(steps=3)
    layer = make()
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out))
    cell, eps = layer.cell, 1e-6
    for t in range(1, 3):
        before = [np.array(s) for s in mg.nest.flatten(trace.states[t - 1])]
        jac = np.zeros((3, 3, 3))
        for j in range(3):
            columns = []
            for sign in (1, -1):
                shifted = [s.copy() for s in before]
                shifted[0][:, j] += sign * eps
                states = [mg.tensor(s) for s in shifted]
                _, new = cell.call(mg.tensor(x[:, t]), states if len(states) > 1 else states[:1])
                columns.append(mg.nest.flatten(new)[0].numpy())
            jac[:, :, j] = (columns[0] - columns[1]) / (2 * eps)
        expected = np.linalg.svd(jac, compute_uv=False)
        np.testing.assert_allclose(trace.jacobian_singular_values(t), expected, rtol=1e-6)


def test_records_by_step_reads_the_scopes():
    x, _ = _data(steps=4)
    layer = mgl.SimpleRNN(4, name="rnn")
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out))
    steps = trace.records_by_step()
    assert sorted(steps) == [0, 1, 2, 3]
    for t, records in steps.items():
        assert all(r.scope == f"rnn/t{t}" or r.scope.startswith(f"rnn/t{t}/") for r in records)
        reads = [r for r in records if r.op == "identity" and isinstance(r.inputs[0], mg.Variable)]
        assert [r.inputs[0] for r in reads] == layer.weights  # each weight read once per step
        assert "matmul" in [r.op for r in records] and "tanh" in [r.op for r in records]


def test_plot_writes_a_figure(tmp_path):
    x, _ = _data(steps=5)
    trace = mgl.inspect.trace_bptt(mgl.GRU(3), x, lambda out: mg.sum(out))
    figure = trace.plot(tmp_path / "bptt.png")
    assert (tmp_path / "bptt.png").stat().st_size > 1000
    assert figure.axes[0].get_yscale() == "log"


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch):
    x, _ = _data(steps=2)
    trace = mgl.inspect.trace_bptt(mgl.SimpleRNN(2), x, lambda out: mg.sum(out))
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'minigrad\[plot\]'"):
        trace.plot()


def test_bad_arguments():
    with pytest.raises(TypeError, match="recurrent layer"):
        mgl.inspect.trace_bptt(mgl.Dense(2), np.ones((1, 2, 2)), lambda out: mg.sum(out))
    with pytest.raises(ValueError, match="scalar"):
        mgl.inspect.trace_bptt(mgl.SimpleRNN(2), np.ones((1, 2, 2)), lambda out: out)
    trace = mgl.inspect.trace_bptt(mgl.SimpleRNN(2), np.ones((1, 2, 2)), lambda out: mg.sum(out))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        trace.jacobian_singular_values(2)
