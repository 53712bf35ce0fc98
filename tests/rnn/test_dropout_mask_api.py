"""The public dropout-mask methods have tf.keras 2's shapes: ``get_dropout_mask_for_cell(inputs,
training, count=1)`` is one Tensor for ``count == 1`` and a list otherwise, all ones unless
training, and None only for a zero rate; the same for ``get_recurrent_dropout_mask_for_cell``.
A cell written the tf.keras way (``inputs * mask``) therefore works unchanged."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.layers.rnn.cells import DropoutRNNCellMixin

B, T, D, H = 3, 4, 5, 2


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


class KerasStyleCell(DropoutRNNCellMixin, mgl.Layer):
    """``h_t = tanh((x_t * dp) @ kernel + (h * rdp) @ recurrent_kernel)``, written as tf.keras 2's
    SimpleRNNCell is: it multiplies by whatever mask it gets, unless the mask is None."""

    def __init__(self, units, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = units
        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout
        self._init_dropout_masks()

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, self.units)
        )
        self.built = True

    def call(self, inputs, states, training=None):
        h = states[0]
        dp_mask = self.get_dropout_mask_for_cell(inputs, training)
        rec_dp_mask = self.get_recurrent_dropout_mask_for_cell(h, training)
        if dp_mask is not None:
            inputs = inputs * dp_mask
        if rec_dp_mask is not None:
            h = h * rec_dp_mask
        output = mg.tanh(mg.matmul(inputs, self.kernel) + mg.matmul(h, self.recurrent_kernel))
        return output, [output]


def numpy_run(x, kernel, recurrent_kernel, dp=1.0, rec_dp=1.0):
    h = np.zeros((x.shape[0], recurrent_kernel.shape[0]))
    for t in range(x.shape[1]):
        h = np.tanh((x[:, t] * dp) @ kernel + (h * rec_dp) @ recurrent_kernel)
    return h


def flat(masks) -> list:
    return masks if isinstance(masks, list) else [masks]


def inputs(seed=0):
    return np.random.default_rng(seed).normal(size=(B, T, D))


def test_a_keras_style_cell_with_dropout_while_training():
    cell = KerasStyleCell(H, dropout=0.4, recurrent_dropout=0.3)
    layer = mgl.RNN(cell)
    x = inputs()
    out = layer(x, training=True)
    assert out.shape == (B, H)
    # Within a call the masks are cached, so asking again gives the masks the call used.
    dp = cell.get_dropout_mask_for_cell(mg.tensor(x[:, 0]), True)
    rec_dp = cell.get_recurrent_dropout_mask_for_cell(mg.zeros((B, H)), True)
    assert isinstance(dp, mg.Tensor) and dp.shape == (B, D)
    assert isinstance(rec_dp, mg.Tensor) and rec_dp.shape == (B, H)
    np.testing.assert_allclose(np.unique(dp.numpy()), [0.0, 1.0 / 0.6])
    expected = numpy_run(
        x, cell.kernel.numpy(), cell.recurrent_kernel.numpy(), dp.numpy(), rec_dp.numpy()
    )
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("training", [None, False])
def test_a_keras_style_cell_gets_ones_when_not_training(training):
    cell = KerasStyleCell(H, dropout=0.4, recurrent_dropout=0.3)
    layer = mgl.RNN(cell)
    x = inputs(1)
    out = layer(x, training=training)
    assert out.shape == (B, H)
    expected = numpy_run(x, cell.kernel.numpy(), cell.recurrent_kernel.numpy())
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    ones = cell.get_dropout_mask_for_cell(mg.tensor(x[:, 0]), training)
    assert isinstance(ones, mg.Tensor) and ones.shape == (B, D) and ones.dtype == np.float64
    np.testing.assert_array_equal(ones.numpy(), np.ones((B, D)))


@pytest.mark.parametrize("training", [True, False, None])
def test_none_only_for_a_zero_rate(training):
    cell = KerasStyleCell(H)
    x_t, h = mg.ones((B, D)), mg.zeros((B, H))
    assert cell.get_dropout_mask_for_cell(x_t, training) is None
    assert cell.get_recurrent_dropout_mask_for_cell(h, training, count=3) is None


@pytest.mark.parametrize("training", [True, False])
def test_count_above_one_gives_a_list_of_count_masks(training):
    cell = KerasStyleCell(H, dropout=0.5, recurrent_dropout=0.5)
    x_t, h = mg.ones((B, D)), mg.zeros((B, H))
    masks = cell.get_dropout_mask_for_cell(x_t, training, count=3)
    recurrent = cell.get_recurrent_dropout_mask_for_cell(h, training, count=4)
    assert isinstance(masks, list) and [m.shape for m in masks] == [(B, D)] * 3
    assert isinstance(recurrent, list) and [m.shape for m in recurrent] == [(B, H)] * 4
    if not training:
        assert all(np.array_equal(m.numpy(), np.ones(m.shape)) for m in masks + recurrent)
    else:  # drawn once per call and reused: asking again gives the same masks
        again = cell.get_dropout_mask_for_cell(x_t, training, count=3)
        assert all(a is b for a, b in zip(masks, again, strict=True))
        assert not np.array_equal(masks[0].numpy(), masks[1].numpy())  # one mask per gate


def test_masks_are_redrawn_at_the_next_call():
    cell = KerasStyleCell(H, dropout=0.5)
    layer = mgl.RNN(cell)
    x = inputs(2)
    layer(x, training=True)
    first = cell.get_dropout_mask_for_cell(mg.tensor(x[:, 0]), True).numpy()
    layer(x, training=True)
    second = cell.get_dropout_mask_for_cell(mg.tensor(x[:, 0]), True).numpy()
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("cls", [mgl.SimpleRNNCell, mgl.LSTMCell, mgl.GRUCell])
def test_a_built_in_cells_public_recurrent_masks_are_the_ones_it_uses(cls):
    cell = cls(H, recurrent_dropout=0.5)
    gates = {mgl.SimpleRNNCell: 1, mgl.LSTMCell: 4, mgl.GRUCell: 3}[cls]
    h = mg.zeros((B, H))
    used = cell._recurrent_dropout_mask_list(h, True, count=gates)
    public = cell.get_recurrent_dropout_mask_for_cell(h, True, count=gates)
    assert len(flat(public)) == gates and all(
        p is u for p, u in zip(flat(public), used, strict=True)
    )
    assert cell._recurrent_dropout_mask_list(h, False, count=gates) is None
    not_training = cell.get_recurrent_dropout_mask_for_cell(h, False, count=gates)
    assert np.array_equal(mg.stack(flat(not_training)).numpy(), np.ones((gates, B, H)))
