"""The figure data of BPTTTrace (singular value band, gradient heatmap, gate activations and
saturation) against the reference loops of ``minigrad.recurrent_reference``, and the figure's
artists against that data (not its pixels)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad import recurrent_reference as ref

pytest.importorskip("matplotlib", reason="the figures need matplotlib: pip install '.[plot]'")


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


X = np.random.default_rng(0).normal(size=(3, 6, 2))
COT = np.random.default_rng(1).normal(size=(3, 6, 4))
MASK = np.ones((3, 6), dtype=bool)
MASK[0, 4:] = False
MASK[1, :2] = False


def _traced(layer, mask=MASK):
    layer(X)
    rng = np.random.default_rng(2)
    layer.set_weights([rng.normal(scale=1.5, size=w.shape) for w in layer.get_weights()])
    return mgl.inspect.trace_bptt(layer, X, lambda out: mg.sum(out * COT), mask=mask)


def _lstm_reference(layer, mask=MASK):
    zeros = np.zeros((3, 4))
    ys, _, _, cache = ref.lstm_forward(X, zeros, zeros, *layer.get_weights(), mask=mask)
    state_grads = []
    ref.lstm_backward(COT, zeros, zeros, cache, state_grads)
    return cache, state_grads


def test_singular_value_band_and_heatmap_against_the_reference():
    layer = mgl.LSTM(4, return_sequences=True)
    trace = _traced(layer)
    cache, state_grads = _lstm_reference(layer)
    band = trace.singular_value_band()
    for t in range(6):
        values = np.linalg.svd(ref.lstm_jacobian(cache, t), compute_uv=False)  # (B, H)
        expected = [values[:, -1].mean(), np.median(values, axis=1).mean(), values[:, 0].mean()]
        np.testing.assert_allclose(band[t], expected, rtol=1e-10)
    np.testing.assert_allclose(band[:, 2], trace.jacobian_norms(), rtol=1e-10)
    heat = trace.grad_heatmap()
    np.testing.assert_allclose(heat, [np.abs(g[0]).mean(axis=0) for g in state_grads], rtol=1e-9)


def test_lstm_gates_and_saturation_against_the_reference():
    layer = mgl.LSTM(4, return_sequences=True)
    trace = _traced(layer)
    cache, _ = _lstm_reference(layer)
    gates = trace.gate_activations()
    assert list(gates) == ["i", "f", "c", "o", "act(c_t)"]
    steps = cache[-1]  # (h_prev, c_prev, i, f, g, o, tanh(c_t)) per step
    for name, index in [("i", 2), ("f", 3), ("c", 4), ("o", 5), ("act(c_t)", 6)]:
        expected = np.stack([s[index] for s in steps])  # (T, B, H)
        expected[~MASK.T] = np.nan
        np.testing.assert_allclose(gates[name], expected, rtol=1e-10)
    saturation = trace.gate_saturation(tolerance=0.1)
    for name, index in [("i", 2), ("f", 3), ("o", 5)]:
        slopes = np.stack([s[index] * (1 - s[index]) for s in steps])  # σ' = σ(1 - σ) <= 1/4
        expected = [(slopes[t][MASK[:, t]] <= 0.1 * 0.25).mean() for t in range(6)]
        np.testing.assert_allclose(saturation[name], expected)
    for name, index in [("c", 4), ("act(c_t)", 6)]:
        slopes = np.stack([1 - s[index] ** 2 for s in steps])  # tanh' <= 1
        expected = [(slopes[t][MASK[:, t]] <= 0.1).mean() for t in range(6)]
        np.testing.assert_allclose(saturation[name], expected)
    assert max(s.max() for s in saturation.values()) > 0  # weights of scale 1.5 saturate


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_gates_with_hard_sigmoid(reset_after):
    layer = mgl.GRU(
        4, return_sequences=True, reset_after=reset_after, recurrent_activation="hard_sigmoid"
    )
    trace = _traced(layer, mask=None)
    h0 = np.zeros((3, 4))
    weights = W, U, b = layer.get_weights()
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    gates = trace.gate_activations()
    assert list(gates) == ["z", "r", "h"]
    for t in range(6):  # the update gate by its definition, clip(0.2 z + 0.5, 0, 1)
        h_prev = h0 if t == 0 else trace.states[t - 1][0]
        z_pre = X[:, t] @ W[:, :4] + b_in[:4] + h_prev @ U[:, :4] + b_rec[:4]
        np.testing.assert_allclose(gates["z"][t], np.clip(0.2 * z_pre + 0.5, 0, 1), atol=1e-12)
    saturation = trace.gate_saturation()
    for name in ("z", "r"):
        expected = [np.mean((g <= 0) | (g >= 1)) for g in gates[name]]  # slope 0 there
        np.testing.assert_allclose(saturation[name], expected)
    np.testing.assert_allclose(
        saturation["h"], [np.mean(1 - g**2 <= 0.05) for g in gates["h"]], rtol=1e-12
    )
    sigmoid_layer = mgl.GRU(4, return_sequences=True, reset_after=reset_after)
    sigmoid_layer(X)
    sigmoid_layer.set_weights(weights)
    sigmoid_trace = mgl.inspect.trace_bptt(sigmoid_layer, X, lambda out: mg.sum(out * COT))
    *_, cache = ref.gru_forward(X, h0, *weights, reset_after=reset_after)
    for name, index in [("z", 1), ("r", 2), ("h", 3)]:
        expected = np.stack([s[index] for s in cache[-1]])
        np.testing.assert_allclose(sigmoid_trace.gate_activations()[name], expected, rtol=1e-10)


def test_fully_masked_step_has_no_saturation():
    mask = MASK.copy()
    mask[:, 3] = False
    trace = _traced(mgl.GRU(4, return_sequences=True), mask=mask)
    saturation = trace.gate_saturation()
    assert np.isnan(saturation["z"][3]) and not np.isnan(saturation["z"][2])


def test_plot_draws_the_data():
    layer = mgl.LSTM(4, return_sequences=True)
    trace = _traced(layer)
    figure = trace.plot()
    top, heat, gates = figure.axes[:3]
    t = np.arange(6)
    band = trace.singular_value_band()
    np.testing.assert_allclose(top.lines[0].get_ydata(), trace.grad_norms)
    np.testing.assert_allclose(top.lines[1].get_ydata(), band[:, 1])
    np.testing.assert_allclose(top.lines[2].get_ydata(), band[:, 2])
    np.testing.assert_allclose(top.lines[0].get_xdata(), t)
    filled = top.collections[0].get_paths()[0].vertices  # the band's polygon: max up, min down
    assert filled[:, 1].max() == pytest.approx(band[:, 2].max())
    assert filled[:, 1].min() == pytest.approx(band[:, 0].min())
    np.testing.assert_allclose(heat.images[0].get_array(), trace.grad_heatmap().T)
    saturation = trace.gate_saturation()
    assert [line.get_label() for line in gates.lines] == list(saturation)
    for line, fraction in zip(gates.lines, saturation.values(), strict=True):
        np.testing.assert_allclose(line.get_ydata(), fraction)
    contributions = figure.axes[3]
    assert len(contributions.lines) == 3  # kernel, recurrent kernel, bias
    for line, name in zip(contributions.lines, trace.param_grads_by_step, strict=True):
        np.testing.assert_allclose(
            line.get_ydata(), np.maximum(trace.weight_grad_contributions()[name], 1e-30)
        )


def test_weight_grad_contributions_add_up_to_the_gradient_and_follow_the_reference():
    layer = mgl.LSTM(4, return_sequences=True)
    trace = _traced(layer)
    contributions = trace.weight_grad_contributions()
    for name, per_step in trace.param_grads_by_step.items():
        expected = np.linalg.norm(per_step.reshape(6, -1), axis=1)
        np.testing.assert_allclose(contributions[name], expected)
    cache, _ = _lstm_reference(layer)
    zeros = np.zeros((3, 4))
    grads = ref.lstm_backward(COT, zeros, zeros, cache, [])
    full = {w.name: g for w, g in zip(layer.trainable_weights, grads[-3:], strict=True)}
    for name, per_step in trace.param_grads_by_step.items():
        np.testing.assert_allclose(per_step.sum(axis=0), full[name], atol=1e-12)


def test_plot_of_a_simple_rnn_has_no_gate_panel():
    figure = _traced(mgl.SimpleRNN(4, return_sequences=True)).plot()
    assert len(figure.axes) == 4  # the band, the heatmap, the weights' contributions, a colorbar


def test_gates_need_a_gated_built_in_cell():
    trace = _traced(mgl.SimpleRNN(4, return_sequences=True))
    with pytest.raises(TypeError, match="LSTM and GRU.*SimpleRNNCell"):
        trace.gate_activations()
    with pytest.raises(ValueError, match=r"tolerance must be in \(0, 1\), received 2"):
        _traced(mgl.GRU(4, return_sequences=True)).gate_saturation(tolerance=2)
