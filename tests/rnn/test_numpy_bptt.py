"""The plain-numpy BPTT loops of ``minigrad/recurrent_reference.py`` against finite differences
(their own gradients), against the layers on the fused path and on the per-step path (outputs,
final states and every gradient: dx, the initial states, the weights), with and without masks,
for every built-in cell; and their per-step Jacobians against finite differences."""

import numpy as np
import pytest
from fuzz_reference import cell_backward as backward
from fuzz_reference import cell_forward as forward

import minigrad as mg
import minigrad_layers as mgl
from minigrad import recurrent_reference as ref

B, T, D, H = 3, 6, 3, 4
CELLS = ["simple_rnn", "lstm", "gru", "gru_reset_before"]
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3}


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


def make_mask(kind):
    if kind is None:
        return None
    mask = np.ones((B, T), dtype=bool)
    mask[0, 4:] = False  # right padding
    mask[1, :2] = False  # left padding: the output before the first kept step is zeros
    mask[1, 4] = False  # a hole
    if kind == "with_empty_row":
        mask[2] = False  # nothing kept: output zeros, final state = the initial state
    return mask


def data(cell, seed=0):
    """Inputs, initial states, weights and the loss's upstream gradients for ``cell``."""
    rng = np.random.default_rng(seed)
    gates = GATES[cell]
    bias_shape = (2, 3 * H) if cell == "gru" else (gates * H,)
    n_states = 2 if cell == "lstm" else 1
    return {
        "x": rng.normal(size=(B, T, D)),
        "states": [rng.normal(size=(B, H)) for _ in range(n_states)],
        "weights": [
            0.5 * rng.normal(size=(D, gates * H)),
            0.5 * rng.normal(size=(H, gates * H)),
            0.5 * rng.normal(size=bias_shape),
        ],
        "dys": rng.normal(size=(B, T, H)),
        "d_finals": [rng.normal(size=(B, H)) for _ in range(n_states)],
    }


def loss(cell, d, x, states, weights, mask):
    ys, finals, _ = forward(cell, x, states, weights, mask)
    pairs = zip(finals, d["d_finals"], strict=True)
    return np.sum(ys * d["dys"]) + sum(np.sum(f * g) for f, g in pairs)


def finite_differences(f, arrays, eps=1e-6):
    """Central differences of the scalar ``f()`` with respect to every entry of ``arrays``
    (modified in place and restored)."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            saved = a[i]
            a[i] = saved + eps
            up = f()
            a[i] = saved - eps
            down = f()
            a[i] = saved
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def close(got, expected, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(got), expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("mask_kind", [None, "with_empty_row"])
@pytest.mark.parametrize("cell", CELLS)
def test_reference_backward_matches_finite_differences(cell, mask_kind):
    d, mask = data(cell), make_mask(mask_kind)
    x, states, weights = d["x"], d["states"], d["weights"]
    _, _, cache = forward(cell, x, states, weights, mask)
    expected = backward(cell, d["dys"], d["d_finals"], cache)
    numeric = finite_differences(
        lambda: loss(cell, d, x, states, weights, mask), [x, *states, *weights]
    )
    for got, want in zip(expected, numeric, strict=True):
        close(got, want, rtol=1e-6, atol=1e-8)


def make_layer(cell, unroll):
    options = {"return_sequences": True, "return_state": True, "unroll": unroll}
    if cell == "simple_rnn":
        return mgl.SimpleRNN(H, **options)
    if cell == "lstm":
        return mgl.LSTM(H, **options)
    return mgl.GRU(H, reset_after=cell == "gru", **options)


@pytest.mark.parametrize("unroll", [False, True], ids=["fused", "per_step"])
@pytest.mark.parametrize("mask_kind", [None, "padded", "with_empty_row"])
@pytest.mark.parametrize("cell", CELLS)
def test_layers_match_the_reference(cell, mask_kind, unroll):
    d, mask = data(cell, seed=1), make_mask(mask_kind)
    layer = make_layer(cell, unroll)
    x, states = mg.tensor(d["x"]), [mg.tensor(s) for s in d["states"]]
    layer(x)
    layer.set_weights(d["weights"])
    with mg.GradientTape() as tape:
        tape.watch([x, *states])
        mask_tensor = None if mask is None else mg.tensor(mask)
        out, *finals = layer(x, initial_state=states, mask=mask_tensor)
        total = mg.sum(out * d["dys"])
        for f, g in zip(finals, d["d_finals"], strict=True):
            total = total + mg.sum(f * g)
    grads = tape.gradient(total, [x, *states, *layer.weights])

    ys, finals_ref, cache = forward(cell, d["x"], d["states"], d["weights"], mask)
    close(out, ys)
    for got, want in zip(finals, finals_ref, strict=True):
        close(got, want)
    for got, want in zip(grads, backward(cell, d["dys"], d["d_finals"], cache), strict=True):
        close(got, want)


def test_long_sequence_bptt():
    """400 steps: the reverse sweep is a loop (no recursion) and agrees with the tape."""
    rng = np.random.default_rng(3)
    x, W = rng.normal(size=(2, 400, 3)), 0.3 * rng.normal(size=(3, 4))
    U, b = 0.3 * rng.normal(size=(4, 4)), np.zeros(4)
    layer = mgl.SimpleRNN(4)
    layer(x)
    layer.set_weights([W, U, b])
    with mg.GradientTape() as tape:
        total = mg.sum(layer(x))
    dW, dU, db = tape.gradient(total, layer.weights)
    dys = np.zeros((2, 400, 4))
    dys[:, -1] = 1.0
    _, _, cache = ref.simple_rnn_forward(x, np.zeros((2, 4)), W, U, b)
    _, _, dW_ref, dU_ref, db_ref = ref.simple_rnn_backward(dys, np.zeros((2, 4)), cache)
    for got, expected in [(dW, dW_ref), (dU, dU_ref), (db, db_ref)]:
        close(got, expected)


@pytest.mark.parametrize("cell", CELLS)
def test_state_grads_are_the_total_gradients_of_every_step(cell):
    """``state_grads[t]``: dL/d(state after step t), by finite differences on a loss that reads
    the states of step t through an extra, perturbable term."""
    d, mask = data(cell, seed=2), make_mask("padded")
    x, states, weights = d["x"], d["states"], d["weights"]
    _, _, cache = forward(cell, x, states, weights, mask)
    state_grads = []
    backward(cell, d["dys"], d["d_finals"], cache, state_grads)
    assert len(state_grads) == T and all(len(g) == len(states) for g in state_grads)
    # the last step: dL/dh_T is the loss's direct part (the output, if kept, and the final state)
    keep = mask[:, -1:].astype(float)
    close(state_grads[-1][0], d["d_finals"][0] + keep * d["dys"][:, -1])
    # one step earlier, δ(states after step t) = J^T δ(states after step t + 1) on the h path
    if cell != "lstm":
        for t in range(T - 1):
            jacobian = jacobian_of(cell, cache, t + 1)  # ∂h_{t+1}/∂h_t, (B, H, H)
            direct = mask[:, t : t + 1] * (d["dys"][:, t] + output_carry(d["dys"], mask, t))
            expected = np.einsum("bij,bi->bj", jacobian, state_grads[t + 1][0]) + direct
            close(state_grads[t][0], expected)


def output_carry(dys, mask, t):
    """dL/dy_t through the outputs of later masked steps that repeat it."""
    carry = np.zeros_like(dys[:, 0])
    for s in range(t + 1, T):
        hidden = ~mask[:, s : s + 1]
        still = np.all(~mask[:, t + 1 : s + 1], axis=1, keepdims=True)
        carry += (hidden & still) * dys[:, s]
    return carry


def jacobian_of(cell, cache, t):
    jacobian = {
        "simple_rnn": ref.simple_rnn_jacobian,
        "lstm": ref.lstm_jacobian,
        "gru": ref.gru_jacobian,
        "gru_reset_before": ref.gru_jacobian,
    }
    return jacobian[cell](cache, t)


@pytest.mark.parametrize("cell", CELLS)
def test_jacobians_match_finite_differences(cell):
    d, mask = data(cell, seed=4), make_mask("padded")
    x, states, weights = d["x"], d["states"], d["weights"]
    _, _, cache = forward(cell, x, states, weights, mask)
    eps = 1e-6
    for t in range(1, T):
        # re-run steps 0..t-1, perturb h_{t-1}, run step t alone from there
        _, before, _ = forward(cell, x[:, :t], states, weights, mask[:, :t])
        numeric = np.zeros((B, H, H))
        for j in range(H):
            columns = []
            for sign in (1, -1):
                shifted = [s.copy() for s in before]
                shifted[0][:, j] += sign * eps
                _, after, _ = forward(cell, x[:, t : t + 1], shifted, weights, mask[:, t : t + 1])
                columns.append(after[0])
            numeric[:, :, j] = (columns[0] - columns[1]) / (2 * eps)
        close(jacobian_of(cell, cache, t), numeric, rtol=1e-6, atol=1e-8)
