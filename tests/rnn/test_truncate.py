"""truncate_gradient=k: the forward pass is unchanged; k >= T is full BPTT; k < T gives the
gradients of k-step chunks run through a stateful layer and summed."""

import numpy as np
import pytest
from cells_for_tests import MinimalRNNCell, TwoStateCell, rebind, weight_attributes

import minigrad as mg
from minigrad_layers.layers.rnn import RNN


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _gradients(layer, x, cot, **call_kwargs):
    """(output, d sum(output * cot) / d [x, *cell weights])."""
    x = mg.tensor(x)
    with mg.GradientTape() as tape:
        tape.watch(x)
        out = layer(x, **call_kwargs)
        loss = mg.sum(out * cot)
    return out, tape.gradient(loss, [x, *layer.cell.weights], unconnected_gradients="zero")


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "3"])
def test_invalid_values_are_rejected(value):
    with pytest.raises(ValueError, match="truncate_gradient"):
        RNN(MinimalRNNCell(2), truncate_gradient=value)


@pytest.mark.parametrize("k", [5, 6, 50])
def test_k_at_least_T_is_full_bptt(k):
    x, cot = _x(2, 5, 3), _x(2, 5, 3, seed=1)
    full = RNN(TwoStateCell(3, 2), return_sequences=True)
    full(x)
    truncated = RNN(full.cell, return_sequences=True, truncate_gradient=k)
    out_full, g_full = _gradients(full, x, cot)
    out_trunc, g_trunc = _gradients(truncated, x, cot)
    np.testing.assert_array_equal(out_trunc.numpy(), out_full.numpy())
    for a, b in zip(g_trunc, g_full, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_gradcheck_with_k_at_least_T():
    layer = RNN(TwoStateCell(3, 2), return_sequences=True, truncate_gradient=5)
    x = _x(2, 5, 2)
    layer(x)
    names = weight_attributes(layer.cell)
    weights = [getattr(layer.cell, n).numpy() for n in names]
    cot = _x(2, 5, 3, seed=2)

    def f(x, *ws):
        rebind(layer.cell, names, ws)
        return mg.sum(layer(x) * cot)

    mg.gradcheck(f, [x, *weights])


@pytest.mark.parametrize(("k", "steps"), [(1, 4), (2, 6), (3, 7), (4, 6)])
def test_k_below_T_equals_stateful_chunks(k, steps):
    x, cot = _x(2, steps, 3), _x(2, steps, 3, seed=1)
    truncated = RNN(TwoStateCell(3, 2), return_sequences=True, truncate_gradient=k)
    out, grads = _gradients(truncated, x, cot)
    full = RNN(truncated.cell, return_sequences=True)
    np.testing.assert_allclose(out.numpy(), full(x).numpy(), rtol=1e-12)  # forward unchanged

    chunked = RNN(truncated.cell, return_sequences=True, stateful=True)
    xt = mg.tensor(x)
    with mg.GradientTape() as tape:
        tape.watch(xt)
        loss = mg.tensor(0.0)
        for start in range(0, steps, k):
            chunk = chunked(xt[:, start : start + k])
            loss = loss + mg.sum(chunk * cot[:, start : start + k])
    expected = tape.gradient(loss, [xt, *truncated.cell.weights], unconnected_gradients="zero")
    for a, b in zip(grads, expected, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-14)


def test_gradient_stops_at_the_last_chunk_boundary():
    x = mg.tensor(_x(2, 6, 3))
    h0 = mg.tensor(_x(2, 2, seed=1))
    layer = RNN(MinimalRNNCell(2), truncate_gradient=2)
    with mg.GradientTape() as tape:
        tape.watch([x, h0])
        out = layer(x, initial_state=h0)
    gx, gh0 = tape.gradient(out, [x, h0])
    assert gh0 is None
    assert not gx.numpy()[:, :4].any() and gx.numpy()[:, 4:].all()


def test_go_backwards_truncates_in_processing_order():
    x = mg.tensor(_x(1, 5, 2))
    layer = RNN(MinimalRNNCell(2), truncate_gradient=2, go_backwards=True)
    with mg.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
    gx = tape.gradient(out, x).numpy()
    # processing steps 0..4 read x[4]..x[0]; the last chunk is processing step 4 = x[:, 0]
    assert gx[:, 0].all() and not gx[:, 1:].any()


def test_truncated_masked_sequence_keeps_the_forward_values():
    x = _x(2, 6, 3)
    mask = np.array(
        [[True, False, True, True, False, True], [True, True, False, False, True, True]]
    )
    full = RNN(TwoStateCell(3, 2), return_sequences=True, return_state=True)
    truncated = RNN(full.cell, return_sequences=True, return_state=True, truncate_gradient=2)
    for a, b in zip(full(x, mask=mask), truncated(x, mask=mask), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
