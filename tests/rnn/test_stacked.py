"""StackedRNNCells: cells chained inside each step, states nested one entry per cell (natural
order), the last cell's output, per-cell builds, constants/training to the cells that take them."""

import numpy as np
import pytest
from cells_for_tests import (
    ConstantsRNNCell,
    MatrixStateCell,
    MinimalRNNCell,
    ProjectionCell,
    TrainingFlagCell,
    TwoStateCell,
    rebind,
    weight_attributes,
)

import minigrad as mg
from minigrad_layers.engine.tensor_shape import TensorShape
from minigrad_layers.layers.rnn import RNN, StackedRNNCells


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def test_sizes_and_build_shapes():
    stack = StackedRNNCells([MinimalRNNCell(2), TwoStateCell(3, 4), ProjectionCell(5, 6)])
    assert stack.state_size == (2, [3, 4], 5) and stack.output_size == 6
    layer = RNN(stack)
    layer(_x(2, 3, 7))
    assert [tuple(w.shape) for w in layer.weights] == [
        (7, 2), (2, 2),  # MinimalRNNCell on (batch, 7)
        (2, 3), (3, 3), (4, 3), (3, 4),  # TwoStateCell on (batch, 2)
        (3, 5), (5, 5), (5,), (5, 6),  # ProjectionCell on (batch, 3)
    ]  # fmt: skip
    assert StackedRNNCells([MatrixStateCell(2)]).output_size == TensorShape((2, 2))


def test_stacked_equals_chaining_the_cells_by_hand():
    x = _x(2, 4, 3)
    layer = RNN([MinimalRNNCell(2), TwoStateCell(3, 2)], return_sequences=True, return_state=True)
    seq, a, (h, m) = layer(x)
    first, second = layer.cell.cells
    sa, sh, sm, outputs = mg.zeros((2, 2)), mg.zeros((2, 3)), mg.zeros((2, 2)), []
    for t in range(4):
        y, [sa] = first.call(mg.tensor(x[:, t]), [sa])
        y, [sh, sm] = second.call(y, [sh, sm])
        outputs.append(y.numpy())
    np.testing.assert_allclose(seq.numpy(), np.stack(outputs, 1), rtol=1e-12)
    for got, expected in ((a, sa), (h, sh), (m, sm)):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)


def test_return_state_nesting_and_output_shapes():
    layer = RNN([MinimalRNNCell(2), TwoStateCell(3, 4), MatrixStateCell(2)], return_state=True)
    result = layer(_x(5, 3, 6))
    shapes = [result[0].shape, result[1].shape, [s.shape for s in result[2]], [result[3][0].shape]]
    assert shapes == [(5, 2, 2), (5, 2), [(5, 3), (5, 4)], [(5, 2, 2)]]
    assert layer.compute_output_shape((None, 3, 6)) == [
        (None, 2, 2), (None, 2), [(None, 3), (None, 4)], [(None, 2, 2)]
    ]  # fmt: skip


def test_initial_state_is_nested_per_cell():
    x = _x(2, 3, 3)
    layer = RNN([MinimalRNNCell(2), TwoStateCell(3, 2)], return_state=True)
    a0, h0, m0 = _x(2, 2, seed=1), _x(2, 3, seed=2), _x(2, 2, seed=3)
    out, a, (h, m) = layer(x, initial_state=[a0, [h0, m0]])
    first, second = layer.cell.cells
    sa, sh, sm = mg.tensor(a0), mg.tensor(h0), mg.tensor(m0)
    for t in range(3):
        y, [sa] = first.call(mg.tensor(x[:, t]), [sa])
        y, [sh, sm] = second.call(y, [sh, sm])
    np.testing.assert_allclose(out.numpy(), y.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.numpy(), sm.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="nested"):
        layer(x, initial_state=[a0, h0, m0])


def test_initial_state_of_single_state_cells_is_a_plain_list():
    x = _x(2, 3, 3)
    layer = RNN([MinimalRNNCell(2), MinimalRNNCell(4)], return_state=True)
    out, h1, h2 = layer(x, initial_state=[np.ones((2, 2)), np.ones((2, 4))])
    assert (h1.shape, h2.shape) == ((2, 2), (2, 4))
    np.testing.assert_allclose(out.numpy(), h2.numpy())


def test_constants_reach_only_the_cells_that_take_them():
    x, c = _x(2, 3, 3), _x(2, 4, seed=1)
    layer = RNN([MinimalRNNCell(2), ConstantsRNNCell(3, 4)])
    out = layer(x, constants=[c])
    first, second = layer.cell.cells
    sa, sb = mg.zeros((2, 2)), mg.zeros((2, 3))
    for t in range(3):
        y, [sa] = first.call(mg.tensor(x[:, t]), [sa])
        y, [sb] = second.call(y, [sb], constants=[mg.tensor(c)])
    np.testing.assert_allclose(out.numpy(), y.numpy(), rtol=1e-12)


def test_training_reaches_the_cells_that_take_it_and_dropout_resets_each_cell():
    flag_a, flag_b = TrainingFlagCell(), TrainingFlagCell()
    layer = RNN([flag_a, MinimalRNNCell(1), flag_b])
    layer(np.zeros((1, 2, 1)), training=True)
    assert flag_a.seen == [True, True] and flag_b.seen == [True, True]
    assert flag_a.resets == flag_b.resets == 1


def test_gradcheck_stacked_with_mask_and_initial_state():
    mask = np.array([[True, True, False, True, True], [False, True, True, True, False]])
    layer = RNN(
        [TwoStateCell(3, 2), ProjectionCell(2, 3)], return_sequences=True, return_state=True
    )
    x = _x(2, 5, 2)
    layer(x)
    cells = layer.cell.cells
    names = [weight_attributes(c) for c in cells]
    weights = [getattr(c, n).numpy() for c, ns in zip(cells, names, strict=True) for n in ns]
    rng = np.random.default_rng(4)
    cots = [rng.normal(size=s) for s in [(2, 5, 3), (2, 3), (2, 2), (2, 2)]]
    h0 = _x(2, 3, seed=5) * 0.5

    def f(x, h0, *ws):
        rebind(cells[0], names[0], ws[: len(names[0])])
        rebind(cells[1], names[1], ws[len(names[0]) :])
        seq, (h, m), p = layer(
            x, mask=mask, initial_state=[[h0, mg.zeros((2, 2))], mg.zeros((2, 2))]
        )
        return sum(mg.sum(t * c) for t, c in zip([seq, h, m, p], cots, strict=True))

    mg.gradcheck(f, [x, h0, *weights])


def test_config_round_trip_copies_every_cell():
    stack = StackedRNNCells([MinimalRNNCell(2), TwoStateCell(3, 2)])
    copy = StackedRNNCells.from_config(stack.get_config())
    assert [type(c) for c in copy.cells] == [MinimalRNNCell, TwoStateCell]
    assert all(a is not b for a, b in zip(copy.cells, stack.cells, strict=True))
    assert copy.state_size == stack.state_size
