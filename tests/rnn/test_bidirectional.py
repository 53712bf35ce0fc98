"""Bidirectional: forward/backward copies, the backward sequence flipped back before merging,
merge modes, states, masks, constants, time_major, errors."""

import numpy as np
import pytest
from cells_for_tests import ConstantsRNNCell, MinimalRNNCell, TwoStateCell

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.engine.input_layer import Input
from minigrad_layers.layers.rnn import RNN, Bidirectional


@pytest.fixture(autouse=True)
def f64():
    mg.set_floatx("float64")


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


MASK = np.array([[True, True, True, False], [True, False, True, True]])


def _directions(bi, x, **kwargs):
    """The two halves computed with plain RNNs sharing the copies' cells (backward flipped)."""
    f, b = bi.forward_layer, bi.backward_layer
    forward = RNN(
        f.cell,
        return_sequences=f.return_sequences,
        return_state=f.return_state,
        zero_output_for_mask=f.zero_output_for_mask,
    )(x, **kwargs)
    backward = RNN(
        b.cell,
        return_sequences=b.return_sequences,
        return_state=b.return_state,
        zero_output_for_mask=b.zero_output_for_mask,
        go_backwards=True,
    )(x, **kwargs)
    return forward, backward


def test_copies_names_and_weight_order():
    layer = RNN(MinimalRNNCell(3), return_sequences=True, name="enc")
    bi = Bidirectional(layer)
    bi(_x(2, 4, 5))
    assert bi.forward_layer.name == "forward_enc" and bi.backward_layer.name == "backward_enc"
    assert bi.forward_layer.cell is not layer.cell and bi.backward_layer.cell is not layer.cell
    assert not bi.forward_layer.go_backwards and bi.backward_layer.go_backwards
    f, b = bi.forward_layer.cell.name, bi.backward_layer.cell.name
    assert [w.name for w in bi.weights] == [
        f"{bi.name}/forward_enc/{f}/kernel",
        f"{bi.name}/forward_enc/{f}/recurrent_kernel",
        f"{bi.name}/backward_enc/{b}/kernel",
        f"{bi.name}/backward_enc/{b}/recurrent_kernel",
    ]
    assert not layer.built  # the wrapped layer itself is only a template


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
def test_merge_modes(merge_mode):
    x = _x(2, 4, 3)
    bi = Bidirectional(RNN(TwoStateCell(3, 2), return_sequences=True), merge_mode=merge_mode)
    out = bi(x)
    forward, backward = _directions(bi, x)
    f, b = forward.numpy(), backward.numpy()[:, ::-1]
    expected = {
        "concat": lambda: np.concatenate([f, b], axis=-1),
        "sum": lambda: f + b,
        "ave": lambda: (f + b) / 2,
        "mul": lambda: f * b,
        None: lambda: None,
    }[merge_mode]()
    if merge_mode is None:
        np.testing.assert_allclose(out[0].numpy(), f, rtol=1e-12)
        np.testing.assert_allclose(out[1].numpy(), b, rtol=1e-12)
    else:
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    shape = bi.compute_output_shape((None, 4, 3))
    got = [o.shape for o in out] if merge_mode is None else out.shape
    assert shape == ([(None, 4, 3)] * 2 if merge_mode is None else (None, *got[1:]))


def test_last_output_is_not_flipped():
    x = _x(2, 4, 3)
    bi = Bidirectional(RNN(MinimalRNNCell(3)))
    out = bi(x)
    forward, backward = _directions(bi, x)
    np.testing.assert_allclose(
        out.numpy(), np.concatenate([forward.numpy(), backward.numpy()], -1), rtol=1e-12
    )


def test_return_state_and_flat_initial_state():
    x = _x(2, 4, 3)
    bi = Bidirectional(RNN(TwoStateCell(3, 2), return_state=True))
    states = [_x(2, 3, seed=1), _x(2, 2, seed=2), _x(2, 3, seed=3), _x(2, 2, seed=4)]
    out, fh, fm, bh, bm = bi(x, initial_state=states)
    forward, backward = _directions(bi, x)  # zero initial states: must differ
    f = RNN(bi.forward_layer.cell, return_state=True)(x, initial_state=states[:2])
    b = RNN(bi.backward_layer.cell, return_state=True, go_backwards=True)(
        x, initial_state=states[2:]
    )
    for got, expected in zip([fh, fm, bh, bm], [*f[1:], *b[1:]], strict=True):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), np.concatenate([f[0].numpy(), b[0].numpy()], -1))
    assert not np.allclose(fh.numpy(), forward[1].numpy())
    shapes = bi.compute_output_shape((None, 4, 3))
    assert shapes == [(None, 6), (None, 3), (None, 2), (None, 3), (None, 2)]


def test_merge_none_with_return_state():
    bi = Bidirectional(RNN(MinimalRNNCell(3), return_state=True), merge_mode=None)
    result = bi(_x(2, 4, 3))
    assert [r.shape for r in result] == [(2, 3)] * 4
    assert bi.compute_output_shape((2, 4, 3)) == [(2, 3)] * 4


def test_mask_reaches_both_and_zero_output_for_mask_follows_return_sequences():
    x = _x(2, 4, 3)
    bi = Bidirectional(RNN(MinimalRNNCell(3), return_sequences=True))
    assert bi.forward_layer.zero_output_for_mask and bi.backward_layer.zero_output_for_mask
    out = bi(x, mask=MASK).numpy()
    forward, backward = _directions(bi, x, mask=MASK)
    expected = np.concatenate([forward.numpy(), backward.numpy()[:, ::-1]], -1)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert not out[~MASK].any()  # masked steps are zeros in both halves
    single = Bidirectional(RNN(MinimalRNNCell(3)))
    assert not single.forward_layer.zero_output_for_mask


def test_mask_from_the_input_tensor_and_compute_mask():
    x = mg.tensor(_x(2, 4, 3))
    mgl.set_keras_mask(x, mg.tensor(MASK))
    bi = Bidirectional(RNN(MinimalRNNCell(3), return_sequences=True))
    out = bi(x)
    assert not out.numpy()[~MASK].any()
    assert np.array_equal(mgl.get_keras_mask(out).numpy(), MASK)
    mask = mg.tensor(MASK)
    assert Bidirectional(RNN(MinimalRNNCell(3))).compute_mask(x, mask) is None
    none_mode = Bidirectional(RNN(MinimalRNNCell(3), return_sequences=True), merge_mode=None)
    assert none_mode.compute_mask(x, mask) == [mask, mask]


def test_constants_reach_both_directions():
    x, c = _x(2, 4, 3), _x(2, 2, seed=1)
    bi = Bidirectional(RNN(ConstantsRNNCell(3, 2)))
    out = bi(x, constants=[c])
    forward, backward = _directions(bi, x, constants=[c])
    np.testing.assert_allclose(
        out.numpy(), np.concatenate([forward.numpy(), backward.numpy()], -1), rtol=1e-12
    )


def test_time_major_flips_axis_zero():
    x = _x(2, 4, 3)
    batch_major = Bidirectional(RNN(MinimalRNNCell(3), return_sequences=True))
    expected = batch_major(x).numpy()
    tm = Bidirectional(RNN(MinimalRNNCell(3), return_sequences=True, time_major=True))
    tm(np.swapaxes(x, 0, 1).copy())
    tm.set_weights(batch_major.get_weights())
    got = tm(np.swapaxes(x, 0, 1).copy()).numpy()
    np.testing.assert_allclose(np.swapaxes(got, 0, 1), expected, rtol=1e-12)


def test_given_backward_layer():
    forward = RNN(MinimalRNNCell(3), return_sequences=True, name="f")
    backward = RNN(TwoStateCell(2, 2), return_sequences=True, go_backwards=True, name="b")
    bi = Bidirectional(forward, backward_layer=backward)
    assert bi.backward_layer is backward and backward.name == "backward_b"
    assert bi(_x(2, 4, 3)).shape == (2, 4, 5)
    assert bi.compute_output_shape((None, 4, 3)) == (None, 4, 5)


def test_gradcheck_through_bidirectional():
    x = _x(2, 4, 2)
    bi = Bidirectional(RNN(MinimalRNNCell(2), return_sequences=True))
    bi(x)
    cot = _x(2, 4, 4, seed=9)
    mg.gradcheck(lambda x: mg.sum(bi(x, mask=MASK) * cot), [x])


def test_stateful_passthrough_and_reset_states():
    bi = Bidirectional(RNN(MinimalRNNCell(2), stateful=True))
    bi(_x(3, 4, 2))
    assert bi.stateful and bi.stateful_batch_size == 3 and len(bi.states) == 2
    bi.reset_states([np.ones((3, 2)), np.full((3, 2), 2.0)])
    assert float(bi.states[1].numpy()[0, 0]) == 2.0
    bi.reset_states()
    assert not bi.states[0].numpy().any()


def test_symbolic_input():
    bi = Bidirectional(RNN(MinimalRNNCell(3), return_sequences=True, return_state=True))
    out = bi(Input((None, 5)))
    assert [o.shape for o in out] == [(None, None, 6), (None, 3), (None, 3)]


def test_errors():
    with pytest.raises(ValueError, match="Invalid merge mode. Received: max"):
        Bidirectional(RNN(MinimalRNNCell(2)), merge_mode="max")
    with pytest.raises(ValueError, match="different `go_backwards`"):
        Bidirectional(RNN(MinimalRNNCell(2)), backward_layer=RNN(MinimalRNNCell(2)))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(
            RNN(MinimalRNNCell(2)),
            backward_layer=RNN(MinimalRNNCell(2), go_backwards=True, return_sequences=True),
        )
    with pytest.raises(ValueError, match="recurrent layer"):
        Bidirectional(MinimalRNNCell(2))
    bi = Bidirectional(RNN(TwoStateCell(2, 2)))
    with pytest.raises(ValueError, match="4 states"):
        bi(_x(1, 2, 2), initial_state=[np.zeros((1, 2))] * 3)


def test_config_round_trip():
    bi = Bidirectional(RNN(MinimalRNNCell(3), return_sequences=True, name="enc"), merge_mode="sum")
    bi(_x(2, 4, 5))
    copy = Bidirectional.from_config({**bi.get_config(), "name": "bi_copy"})
    assert copy.forward_layer.name == "forward_enc" and copy.merge_mode == "sum"
    assert copy(_x(2, 4, 5)).shape == (2, 4, 3) and copy.weights[0] is not bi.weights[0]
    assert copy.weights[0].name == f"bi_copy/forward_enc/{copy.forward_layer.cell.name}/kernel"
    given = Bidirectional(
        RNN(MinimalRNNCell(3), name="f"),
        backward_layer=RNN(TwoStateCell(2, 2), go_backwards=True, name="b"),
    )
    config = given.get_config()
    assert config["backward_layer"].name == "b" and config["layer"].name == "f"
    assert Bidirectional.from_config(config).backward_layer.name == "backward_b"
