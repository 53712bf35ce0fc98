"""Dropout in the built-in cells: masks drawn once per RNN call and reused at every step, new masks
at the next call, none unless training; one mask per gate (Keras ``implementation=1``), applied
as the numpy references below say."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad import recurrent_reference as ref
from minigrad.nest import flatten

B, T, D, H = 4, 5, 3, 6


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


CELL_MAKERS = {
    "simple_rnn": lambda **kw: mgl.SimpleRNNCell(H, **kw),
    "lstm": lambda **kw: mgl.LSTMCell(H, **kw),
    "gru": lambda **kw: mgl.GRUCell(H, **kw),
    "gru_reset_before": lambda **kw: mgl.GRUCell(H, reset_after=False, **kw),
}
GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3}


def spy_on_masks(cell):
    """Record, at every step, the input and recurrent masks the cell uses (numpy copies or None)."""
    seen = {"x": [], "h": []}

    def wrap(kind, method):
        def recorded(tensor, training, count=1):
            masks = method(tensor, training, count)
            seen[kind].append(None if masks is None else [m.numpy().copy() for m in masks])
            return masks

        return recorded

    object.__setattr__(cell, "_dropout_mask_list", wrap("x", cell._dropout_mask_list))
    object.__setattr__(
        cell,
        "_recurrent_dropout_mask_list",
        wrap("h", cell._recurrent_dropout_mask_list),
    )
    return seen


def inputs(seed=0):
    return mg.tensor(np.random.default_rng(seed).normal(size=(B, T, D)))


def assert_same_each_step(per_step):
    assert len(per_step) == T
    for masks in per_step[1:]:
        for first, later in zip(per_step[0], masks, strict=True):
            np.testing.assert_array_equal(first, later)


def assert_differ(a, b):
    assert any(not np.array_equal(m, n) for m, n in zip(a, b, strict=True))


@pytest.mark.parametrize("kind", CELL_MAKERS)
def test_masks_are_reused_within_a_call_and_redrawn_across_calls(kind):
    cell = CELL_MAKERS[kind](dropout=0.4, recurrent_dropout=0.3)
    layer = mgl.RNN(cell, return_sequences=True)
    seen = spy_on_masks(cell)
    x = inputs()
    layer(x, training=True)
    first = {k: v[:] for k, v in seen.items()}
    for k in ("x", "h"):
        assert_same_each_step(first[k])
        assert len(first[k][0]) == GATES[kind]
    rates = {"x": 0.4, "h": 0.3}
    for k, rate in rates.items():  # inverted dropout: kept entries are 1 / (1 - rate)
        values = np.unique(np.concatenate([m.ravel() for m in first[k][0]]))
        np.testing.assert_allclose(values, [0.0, 1.0 / (1.0 - rate)])
    assert first["x"][0][0].shape == (B, D) and first["h"][0][0].shape == (B, H)

    seen["x"].clear()
    seen["h"].clear()
    layer(x, training=True)
    for k in ("x", "h"):
        assert_same_each_step(seen[k])
        assert_differ(first[k][0], seen[k][0])


@pytest.mark.parametrize("kind", CELL_MAKERS)
@pytest.mark.parametrize("training", [False, None])
def test_no_dropout_unless_training(kind, training):
    cell = CELL_MAKERS[kind](dropout=0.5, recurrent_dropout=0.5)
    # unroll=True: the per-step loop, where the cell's mask lookups can be watched (without
    # dropout in effect, unroll=False would run the fused path, which asks for no masks)
    layer, plain_layer = mgl.RNN(cell, unroll=True), mgl.RNN(CELL_MAKERS[kind](), unroll=True)
    x = inputs(1)
    layer(x)
    plain_layer(x)
    plain_layer.set_weights(layer.get_weights())  # the same weights, no dropout
    seen = spy_on_masks(cell)
    out = layer(x, training=training)
    assert seen["x"] == [None] * T and seen["h"] == [None] * T
    np.testing.assert_array_equal(out.numpy(), plain_layer(x).numpy())
    assert not np.array_equal(layer(x, training=True).numpy(), out.numpy())


def test_the_masks_follow_the_global_seed():
    cell = mgl.LSTMCell(H, dropout=0.5, recurrent_dropout=0.5)
    layer = mgl.RNN(cell)
    x = inputs()
    layer(x)  # build first: building draws the initial weights
    mg.random.seed(11)
    a = layer(x, training=True).numpy()
    mg.random.seed(11)
    np.testing.assert_array_equal(layer(x, training=True).numpy(), a)


def test_dropped_fraction_is_the_rate():
    cell = mgl.SimpleRNNCell(200, dropout=0.3)
    seen = spy_on_masks(cell)
    mgl.RNN(cell)(np.ones((100, 2, 50)), training=True)
    assert abs((seen["x"][0][0] == 0).mean() - 0.3) < 0.02


# -------------------------------------------------------------------------------------------------
# the masks are applied per gate, as Keras implementation=1 applies them
# -------------------------------------------------------------------------------------------------


def reference_step(kind, weights, x, states, xm, hm):
    """One numpy step with per-gate masks ``xm[k]`` on x and ``hm[k]`` on h (ones if absent)."""
    W, U, b = weights
    h = states[0]
    blocks = W.shape[1] // H
    xm = xm or [np.ones_like(x)] * blocks
    hm = hm or [np.ones_like(h)] * blocks
    cols = [slice(k * H, (k + 1) * H) for k in range(blocks)]
    xw = np.concatenate([(x * xm[k]) @ W[:, c] for k, c in enumerate(cols)], axis=1)
    if kind == "simple_rnn":
        h_new = np.tanh(xw + b + (h * hm[0]) @ U)
        return h_new, [h_new]
    if kind == "lstm":
        z = xw + np.concatenate([(h * hm[k]) @ U[:, c] for k, c in enumerate(cols)], axis=1) + b
        i, f, o = ref.sigmoid(z[:, :H]), ref.sigmoid(z[:, H : 2 * H]), ref.sigmoid(z[:, 3 * H :])
        c_new = f * states[1] + i * np.tanh(z[:, 2 * H : 3 * H])
        h_new = o * np.tanh(c_new)
        return h_new, [h_new, c_new]
    reset_after = kind == "gru"
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros(3 * H))
    xw = xw + b_in
    hu = [(h * hm[k]) @ U[:, c] + b_rec[c] for k, c in enumerate(cols)]
    z = ref.sigmoid(xw[:, :H] + hu[0])
    r = ref.sigmoid(xw[:, H : 2 * H] + hu[1])
    if reset_after:
        hh = np.tanh(xw[:, 2 * H :] + r * hu[2])
    else:
        hh = np.tanh(xw[:, 2 * H :] + (r * h * hm[2]) @ U[:, cols[2]])
    h_new = z * h + (1 - z) * hh
    return h_new, [h_new]


@pytest.mark.parametrize("kind", CELL_MAKERS)
@pytest.mark.parametrize(
    "rates", [(0.4, 0.0), (0.0, 0.3), (0.4, 0.3)], ids=["input", "recurrent", "both"]
)
@pytest.mark.parametrize("unroll", [False, True])
def test_masks_are_applied_per_gate(kind, rates, unroll):
    """On both paths: input dropout alone runs fused unless unrolled, which asks the cell for
    its masks once per call (and never for recurrent masks); the per-step loop asks at every
    step and gets the same masks (see the test above)."""
    cell = CELL_MAKERS[kind](dropout=rates[0], recurrent_dropout=rates[1])
    layer = mgl.RNN(cell, return_sequences=True, unroll=unroll)
    seen = spy_on_masks(cell)
    x = inputs(2)
    out = layer(x, training=True).numpy()

    x_masks = seen["x"][0]
    h_masks = seen["h"][0] if seen["h"] else None
    weights = [w.numpy() for w in cell.weights]
    states = [np.zeros((B, H)) for _ in flatten(cell.state_size)]
    for t in range(T):
        y, states = reference_step(kind, weights, x.numpy()[:, t], states, x_masks, h_masks)
        np.testing.assert_allclose(out[:, t], y, rtol=1e-12, atol=1e-14)


def test_gradients_flow_through_the_kept_units_only():
    cell = mgl.SimpleRNNCell(H, dropout=0.5)
    layer = mgl.RNN(cell)
    seen = spy_on_masks(cell)
    x = inputs(3)
    with mg.GradientTape() as tape:
        tape.watch(x)
        loss = mg.sum(layer(x, training=True))
    dx = tape.gradient(loss, x).numpy()
    dropped = seen["x"][0][0] == 0  # (B, D), the same at every step
    assert np.all(dx[np.broadcast_to(dropped[:, None, :], dx.shape)] == 0)
    assert np.all(dx[np.broadcast_to(~dropped[:, None, :], dx.shape)] != 0)


# -------------------------------------------------------------------------------------------------
# stacked cells
# -------------------------------------------------------------------------------------------------


def test_stacked_cells_redraw_their_masks_per_call():
    cells = [
        mgl.SimpleRNNCell(H, dropout=0.5),
        mgl.LSTMCell(H, recurrent_dropout=0.5),
        mgl.GRUCell(H, dropout=0.3, recurrent_dropout=0.3),
    ]
    spies = [spy_on_masks(c) for c in cells]
    layer = mgl.RNN(cells, return_sequences=True)
    x = inputs(4)

    layer(x, training=False)
    for spy in spies:
        assert spy["x"] == [None] * T and spy["h"] == [None] * T
        spy["x"].clear()
        spy["h"].clear()

    layer(x, training=True)
    first = [{k: v[:] for k, v in spy.items()} for spy in spies]
    for spy in spies:
        spy["x"].clear()
        spy["h"].clear()
    layer(x, training=True)
    used = [("x", None), ("h", None), ("x", "h")]
    for spy, before, kinds in zip(spies, first, used, strict=True):
        for k in filter(None, kinds):
            assert_same_each_step(before[k])
            assert_same_each_step(spy[k])
            assert_differ(before[k][0], spy[k][0])
    assert spies[0]["h"] == [None] * T and spies[1]["x"] == [None] * T
