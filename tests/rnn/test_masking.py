"""Masking, tf.keras semantics: the cell runs at every step, a masked step keeps the states and
repeats the previous output (zeros before the first step), or outputs zeros with
zero_output_for_mask; masked steps get exactly zero gradient."""

import numpy as np
import pytest
from cells_for_tests import (
    AccumulatorCell,
    OutputNotStateCell,
    ProjectionCell,
    TwoStateCell,
    rebind,
    weight_attributes,
)

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.layers.rnn import RNN


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


def _x(*shape):
    return np.random.default_rng(0).normal(size=shape)


MASK = np.array([[True, True, True, False], [True, True, False, False]])


def test_keras_masking_numbers():
    # h_t = sum(x_t) + 2 h_{t-1}; Keras' rnn_test.py::test_masking
    x = np.arange(24.0).reshape(2, 4, 3)
    seq = RNN(AccumulatorCell(scale=2.0), return_sequences=True)(x, mask=MASK)
    np.testing.assert_array_equal(seq.numpy()[..., 0], [[3, 18, 57, 57], [39, 126, 126, 126]])


def test_right_padding_returns_last_valid_output_and_state():
    x = np.arange(24.0).reshape(2, 4, 3)
    out, h = RNN(AccumulatorCell(scale=2.0), return_state=True)(x, mask=MASK)
    np.testing.assert_array_equal(out.numpy()[:, 0], [57, 126])
    np.testing.assert_array_equal(h.numpy()[:, 0], [57, 126])


def test_output_is_not_taken_from_the_first_state():
    # output = a + b with states [a, b]: a masked step repeats the previous OUTPUT (3), never a
    x = np.ones((1, 3, 1))
    mask = np.array([[True, False, True]])
    for unroll in (False, True):
        seq, a, b = RNN(
            OutputNotStateCell(), return_sequences=True, return_state=True, unroll=unroll
        )(x, mask=mask)
        np.testing.assert_array_equal(seq.numpy().ravel(), [3.0, 3.0, 6.0])
        assert (float(a.numpy()[0, 0]), float(b.numpy()[0, 0])) == (2.0, 4.0)


def test_first_step_masked_with_nonzero_initial_state():
    x = np.full((1, 3, 1), 2.0)
    mask = np.array([[False, True, True]])
    for unroll in (False, True):
        seq, h = RNN(AccumulatorCell(), return_sequences=True, return_state=True, unroll=unroll)(
            x, mask=mask, initial_state=np.full((1, 1), 5.0)
        )
        np.testing.assert_array_equal(seq.numpy().ravel(), [0.0, 7.0, 9.0])
        assert float(h.numpy()[0, 0]) == 9.0


def test_fully_masked_row_outputs_zeros_and_keeps_initial_state():
    x = _x(2, 3, 2)
    h0 = _x(2, 3)
    mask = np.array([[True, True, False], [False, False, False]])
    layer = RNN(ProjectionCell(3, 4), return_sequences=True, return_state=True)
    seq, h = layer(x, mask=mask, initial_state=h0)
    np.testing.assert_array_equal(seq.numpy()[1], np.zeros((3, 4)))
    np.testing.assert_array_equal(h.numpy()[1], h0[1])
    np.testing.assert_array_equal(seq.numpy()[0, 2], seq.numpy()[0, 1])


def test_projection_cell_carries_output_and_state_separately():
    x = _x(1, 4, 2)
    mask = np.array([[True, False, True, False]])
    layer = RNN(ProjectionCell(3, 2), return_sequences=True, return_state=True)
    seq, h = layer(x, mask=mask)
    cell, state = layer.cell, mg.zeros((1, 3))
    y0, [state] = cell.call(mg.tensor(x[:, 0]), [state])
    cell.call(mg.tensor(x[:, 1]), [state])  # discarded
    y2, [state] = cell.call(mg.tensor(x[:, 2]), [state])
    expected = np.stack([y0.numpy(), y0.numpy(), y2.numpy(), y2.numpy()], axis=1)
    np.testing.assert_allclose(seq.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), state.numpy(), rtol=1e-12)


def test_zero_output_for_mask():
    x = np.arange(24.0).reshape(2, 4, 3)
    seq = RNN(AccumulatorCell(scale=2.0), return_sequences=True, zero_output_for_mask=True)(
        x, mask=MASK
    )
    np.testing.assert_array_equal(seq.numpy()[..., 0], [[3, 18, 57, 0], [39, 126, 0, 0]])


def test_zero_output_for_mask_also_zeros_the_single_returned_output():
    # the gotcha: without return_sequences a row whose last step is masked returns zeros
    x = np.arange(24.0).reshape(2, 4, 3)
    mask = np.array([[True, True, True, True], [True, True, False, False]])
    out, h = RNN(AccumulatorCell(scale=2.0), zero_output_for_mask=True, return_state=True)(
        x, mask=mask
    )
    unmasked = RNN(AccumulatorCell(scale=2.0))(x).numpy()[0, 0]  # 3, 18, 57, 147
    np.testing.assert_array_equal(out.numpy()[:, 0], [unmasked, 0.0])
    np.testing.assert_array_equal(h.numpy()[:, 0], [unmasked, 126.0])  # the carried state


def test_go_backwards_reverses_the_mask():
    x = _x(2, 4, 3)
    layer = RNN(TwoStateCell(3, 2), return_sequences=True, return_state=True)
    backward = RNN(layer.cell, return_sequences=True, return_state=True, go_backwards=True)
    for a, b in zip(
        backward(x, mask=MASK),
        layer(x[:, ::-1].copy(), mask=MASK[:, ::-1].copy()),
        strict=True,
    ):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_time_major_mask_stays_batch_major():
    x = _x(2, 4, 3)
    layer = RNN(TwoStateCell(3, 2), return_sequences=True)
    expected = layer(x, mask=MASK).numpy()
    tm = RNN(layer.cell, return_sequences=True, time_major=True)
    got = tm(np.swapaxes(x, 0, 1).copy(), mask=MASK).numpy()
    np.testing.assert_allclose(np.swapaxes(got, 0, 1), expected, rtol=1e-12)


def test_mask_attached_to_the_input_tensor_is_used():
    x = mg.tensor(np.arange(24.0).reshape(2, 4, 3))
    mgl.set_keras_mask(x, mg.tensor(MASK))
    seq = RNN(AccumulatorCell(scale=2.0), return_sequences=True)(x)
    np.testing.assert_array_equal(seq.numpy()[..., 0], [[3, 18, 57, 57], [39, 126, 126, 126]])


@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_steps_get_exactly_zero_gradient(zero_output):
    x = mg.tensor(_x(2, 4, 3))
    h0 = mg.tensor(_x(2, 3))
    layer = RNN(
        TwoStateCell(3, 2),
        return_sequences=True,
        return_state=True,
        zero_output_for_mask=zero_output,
    )
    layer(x)
    with mg.GradientTape() as tape:
        tape.watch([x, h0])
        seq, h, m = layer(x, mask=MASK, initial_state=[h0, mg.zeros((2, 2))])
        loss = mg.sum(seq * seq) + mg.sum(h) + mg.sum(m)
    gx, gh0 = tape.gradient(loss, [x, h0])
    assert not gx.numpy()[~MASK].any()  # exactly 0.0 at every masked step
    assert np.abs(gx.numpy()[MASK]).min() > 0
    assert gh0 is not None


def test_all_steps_masked_for_every_row_gives_zero_input_gradient():
    x = mg.tensor(_x(2, 3, 3))
    layer = RNN(TwoStateCell(3, 2), return_state=True)
    with mg.GradientTape() as tape:
        tape.watch(x)
        out, h, m = layer(x, mask=np.zeros((2, 3), dtype=bool))
        loss = mg.sum(out) + mg.sum(h) + mg.sum(m)
    gx = tape.gradient(loss, x, unconnected_gradients="zero")
    assert not gx.numpy().any() and not out.numpy().any()


@pytest.mark.parametrize(
    ("go_backwards", "zero_output"), [(False, False), (True, False), (False, True)]
)
def test_gradcheck_with_mask(go_backwards, zero_output):
    mask = np.array([[True, False, True, True, False], [False, True, True, False, True]])
    layer = RNN(
        ProjectionCell(3, 2),
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
        zero_output_for_mask=zero_output,
    )
    x, h0 = _x(2, 5, 2), _x(2, 3) * 0.5
    layer(x)
    cell = layer.cell
    names = weight_attributes(cell)
    weights = [getattr(cell, n).numpy() for n in names]
    rng = np.random.default_rng(3)
    cot_seq, cot_h = rng.normal(size=(2, 5, 2)), rng.normal(size=(2, 3))

    def f(x, h0, *ws):
        rebind(cell, names, ws)
        seq, h = layer(x, mask=mask, initial_state=h0)
        return mg.sum(seq * cot_seq) + mg.sum(h * cot_h)

    mg.gradcheck(f, [x, h0, *weights])


def test_embedding_mask_zero_feeds_the_rnn_and_sequences_keep_it():
    from minigrad_layers.layers.core import Embedding

    ids = np.array([[3, 1, 4, 0], [5, 0, 0, 0]])
    embedded = Embedding(7, 3, mask_zero=True)(ids)
    layer = RNN(TwoStateCell(3, 2), return_sequences=True)
    seq = layer(embedded)
    mask = ids != 0
    np.testing.assert_array_equal(mgl.get_keras_mask(seq).numpy(), mask)
    expected = RNN(layer.cell, return_sequences=True)(mg.tensor(embedded.numpy()), mask=mask)
    np.testing.assert_array_equal(seq.numpy(), expected.numpy())
    last = RNN(layer.cell)(embedded)
    assert mgl.get_keras_mask(last) is None
    np.testing.assert_array_equal(last.numpy(), seq.numpy()[:, -1])
