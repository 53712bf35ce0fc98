"""trace_bptt against the numpy BPTT loops of ``minigrad.recurrent_reference`` (every cell's
per-step total state gradients, with masks and stacked cells), finite differences (LSTM/GRU
Jacobians) and the tape's own full gradients."""

import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad import recurrent_reference as ref


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


def _data(batch=3, steps=6, features=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, steps, features)), rng.normal(size=(batch, steps, 4))


def _mask(kind, batch=3, steps=6):
    if kind is None:
        return None
    mask = np.ones((batch, steps), dtype=bool)
    mask[0, 4:] = False  # right padding
    mask[1, :2] = False  # left padding
    mask[2, 3] = False  # a hole
    if kind == "with_empty_row":
        mask[1] = False  # nothing kept
    return mask


def _reference_run(cell, x, states, weights, mask):
    """``(ys, final states, cache, backward)`` of ``minigrad.recurrent_reference`` for ``cell``."""
    if isinstance(cell, mgl.LSTMCell):
        ys, h, c, cache = ref.lstm_forward(x, *states, *weights, mask=mask)
        return ys, [h, c], cache, ref.lstm_backward
    if isinstance(cell, mgl.GRUCell):
        ys, h, cache = ref.gru_forward(x, *states, *weights, cell.reset_after, mask=mask)
        return ys, [h], cache, ref.gru_backward
    ys, h, cache = ref.simple_rnn_forward(x, *states, *weights, mask=mask)
    return ys, [h], cache, ref.simple_rnn_backward


def reference_bptt(layer, x, cot, mask):
    """The reference loop for the built-in ``layer`` (return_sequences, zero initial states) and
    ``loss = sum(cot * outputs)``: ``(loss, states after each step, state_grads, gradients,
    cache)``, with ``gradients = (dx, *d initial states, dW, dU, db)``."""
    cell, weights = layer.cell, layer.get_weights()
    zeros = [np.zeros((x.shape[0], cell.units)) for _ in mg.nest.flatten(cell.state_size)]
    ys, finals, cache, backward = _reference_run(cell, x, zeros, weights, mask)
    states = []  # after step t: the final states of the first t + 1 steps
    for t in range(x.shape[1]):
        head = None if mask is None else mask[:, : t + 1]
        states.append(_reference_run(cell, x[:, : t + 1], zeros, weights, head)[1])
    state_grads = []
    gradients = backward(cot, *[np.zeros_like(f) for f in finals], cache, state_grads=state_grads)
    return np.sum(cot * ys), states, state_grads, gradients, cache


CELLS = {
    "simple_rnn": lambda **kw: mgl.SimpleRNN(4, **kw),
    "lstm": lambda **kw: mgl.LSTM(4, **kw),
    "gru": lambda **kw: mgl.GRU(4, **kw),
    "gru_reset_before": lambda **kw: mgl.GRU(4, reset_after=False, **kw),
}


@pytest.mark.parametrize("mask_kind", [None, "padded", "with_empty_row"])
@pytest.mark.parametrize("cell", list(CELLS))
def test_state_grads_are_the_reference_loops_total_gradients(cell, mask_kind):
    """Every step's δh_t (and an LSTM's δc_t, with its path into h_t inside the step) against the
    reverse loop of the reference, and the rest of the trace against its other results."""
    x, cot = _data()
    mask = _mask(mask_kind)
    layer = CELLS[cell](return_sequences=True)
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out * cot), mask=mask)
    loss, states, state_grads, (dx, *_), _ = reference_bptt(layer, x, cot, mask)

    assert trace.steps == 6 and trace.loss == pytest.approx(loss, rel=1e-12)
    for t in range(6):
        for got, expected in zip(trace.states[t], states[t], strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-12)
        for got, expected in zip(trace.state_grads[t], state_grads[t], strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)
    h_norms = [np.linalg.norm(grads[0]) for grads in state_grads]
    np.testing.assert_allclose(trace.grad_norms, h_norms, rtol=1e-10)
    np.testing.assert_allclose(trace.input_grads, dx, atol=1e-12)


def test_lstm_last_cell_state_gets_its_path_into_the_last_output():
    """δc_T = δh_T ⊙ o_T ⊙ tanh'(c_T): nothing comes back from a later step, yet it is not 0."""
    x, _ = _data(steps=4)
    layer = mgl.LSTM(3)
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out))
    zeros = np.zeros((3, 3))
    *_, cache = ref.lstm_forward(x, zeros, zeros, *layer.get_weights())
    *_, o, tanh_c = cache[-1][-1]  # the last step's o_T and tanh(c_T)
    np.testing.assert_allclose(trace.state_grads[3][0], np.ones((3, 3)))  # δh_T
    np.testing.assert_allclose(trace.state_grads[3][1], o * (1 - tanh_c**2), rtol=1e-12)


@pytest.mark.parametrize("masked", [False, True])
def test_simple_rnn_param_grads_by_step_and_jacobians(masked):
    """Step t's contributions to dW, dU, db are x_t^T dz_t, h_{t-1}^T dz_t and sum_batch dz_t with
    dz_t = m_t δh_t (1 - h_t^2); and dh_t/dh_{t-1} is the reference's Jacobian."""
    x, cot = _data()
    mask = _mask("padded" if masked else None)
    layer = mgl.SimpleRNN(4, return_sequences=True)
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out * cot), mask=mask)
    _, states, state_grads, _, cache = reference_bptt(layer, x, cot, mask)
    kept = np.ones((3, 6)) if mask is None else mask.astype(float)
    h_prev = [np.zeros((3, 4))] + [s[0] for s in states[:-1]]
    hs_new = cache[-1]  # every step's tanh(...) before masking
    kernel, recurrent_kernel, bias = (trace.param_grads_by_step[w.name] for w in layer.weights)
    for t in range(6):
        dz = kept[:, t : t + 1] * state_grads[t][0] * (1 - hs_new[t] ** 2)
        np.testing.assert_allclose(kernel[t], x[:, t].T @ dz, atol=1e-12)
        np.testing.assert_allclose(recurrent_kernel[t], h_prev[t].T @ dz, atol=1e-12)
        np.testing.assert_allclose(bias[t], dz.sum(0), atol=1e-12)
        expected = np.linalg.svd(ref.simple_rnn_jacobian(cache, t), compute_uv=False)
        np.testing.assert_allclose(trace.jacobian_singular_values(t), expected, rtol=1e-10)
    np.testing.assert_allclose(
        trace.jacobian_norms(),
        [trace.jacobian_singular_values(t)[:, 0].mean() for t in range(6)],
    )


def test_go_backwards_counts_steps_in_processing_order():
    x, cot = _data()
    layer = mgl.SimpleRNN(4, go_backwards=True, return_sequences=True)
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out * cot))
    _, states, state_grads, gradients, _ = reference_bptt(layer, x[:, ::-1], cot, None)
    for t in range(6):
        np.testing.assert_allclose(trace.states[t][0], states[t][0], rtol=1e-12)
        np.testing.assert_allclose(trace.state_grads[t][0], state_grads[t][0], rtol=1e-10)
    by_step = trace.param_grads_by_step[layer.weights[0].name]
    np.testing.assert_allclose(by_step.sum(0), gradients[2], atol=1e-12)  # dW


def test_stacked_cells_state_grads_include_the_path_into_the_next_cell():
    """The first cell's h_t feeds the second cell at step t: at the last step its total gradient
    is that path alone, the gradient of the second cell's step input."""
    x, _ = _data(steps=4)
    layer = mgl.RNN([mgl.SimpleRNNCell(3), mgl.LSTMCell(2)])
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out))
    h_first = trace.states[3][0]  # (3, 3): the first cell's h_3, the second cell's input
    h2, c2 = trace.states[2][1]  # the second cell's states before step 3
    *_, cache = ref.lstm_forward(h_first[:, None], h2, c2, *layer.cell.cells[1].get_weights())
    dx, *_ = ref.lstm_backward(np.ones((3, 1, 2)), np.zeros((3, 2)), np.zeros((3, 2)), cache)
    np.testing.assert_allclose(trace.state_grads[3][0], dx[:, 0], rtol=1e-10, atol=1e-14)


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
