"""RNN(cell): equals iterating the cell by hand; shapes and nesting of every return form;
go_backwards, time_major, unroll, constants, N-D steps and states; gradcheck; name scopes and the
per-step weight reads used by BPTT inspection."""

import numpy as np
import pytest
from cells_for_tests import (
    AccumulatorCell,
    ConstantsRNNCell,
    Flatten2DCell,
    MatrixStateCell,
    MinimalRNNCell,
    OnesInitialStateCell,
    PlainAccumulatorCell,
    ProjectionCell,
    TrainingFlagCell,
    TwoStateCell,
    rebind,
    weight_attributes,
)

import minigrad as mg
from minigrad_layers.engine.tensor_shape import TensorShape
from minigrad_layers.inspect.observer import recording_steps
from minigrad_layers.layers.rnn import RNN, StackedRNNCells


@pytest.fixture
def f64():
    mg.set_floatx("float64")


def _x(*shape):
    return np.random.default_rng(0).normal(size=shape)


def _cell_by_hand(cell, x, states):
    """Iterate ``cell.call`` over x (B, T, ...): the per-step outputs and the final states."""
    outputs = []
    for t in range(x.shape[1]):
        y, states = cell.call(mg.tensor(x[:, t]), states)
        outputs.append(y.numpy())
    return np.stack(outputs, axis=1), [s.numpy() for s in states]


# -- values against the cell iterated by hand ----------------------------------------------------


def test_minimal_cell_matches_iterating_the_cell(f64):
    x = _x(2, 5, 3)
    layer = RNN(MinimalRNNCell(4), return_sequences=True, return_state=True)
    seq, h = layer(x)
    expected_seq, [expected_h] = _cell_by_hand(layer.cell, x, [mg.zeros((2, 4))])
    np.testing.assert_allclose(seq.numpy(), expected_seq, rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), expected_h, rtol=1e-12)
    last = RNN(layer.cell)(x)  # the same built cell, last output only
    np.testing.assert_allclose(last.numpy(), expected_seq[:, -1], rtol=1e-12)


def test_minimal_cell_matches_numpy_loop(f64):
    x = _x(3, 4, 2)
    layer = RNN(MinimalRNNCell(3))
    out = layer(x)
    kernel, recurrent = layer.cell.kernel.numpy(), layer.cell.recurrent_kernel.numpy()
    h = np.zeros((3, 3))
    for t in range(4):
        h = x[:, t] @ kernel + h @ recurrent
    np.testing.assert_allclose(out.numpy(), h, rtol=1e-12)


def test_two_states_in_state_size_order(f64):
    x = _x(2, 4, 3)
    layer = RNN(TwoStateCell(3, 2), return_state=True)
    out, h, m = layer(x)
    assert (out.shape, h.shape, m.shape) == ((2, 3), (2, 3), (2, 2))
    _, (expected_h, expected_m) = _cell_by_hand(layer.cell, x, [mg.zeros((2, 3)), mg.zeros((2, 2))])
    np.testing.assert_allclose(h.numpy(), expected_h, rtol=1e-12)
    np.testing.assert_allclose(m.numpy(), expected_m, rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), h.numpy())


def test_projection_cell_output_differs_from_state(f64):
    x = _x(2, 3, 4)
    layer = RNN(ProjectionCell(3, 5), return_sequences=True, return_state=True)
    seq, h = layer(x)
    assert seq.shape == (2, 3, 5) and h.shape == (2, 3)
    expected_seq, [expected_h] = _cell_by_hand(layer.cell, x, [mg.zeros((2, 3))])
    np.testing.assert_allclose(seq.numpy(), expected_seq, rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), expected_h, rtol=1e-12)
    assert layer.compute_output_shape((None, 3, 4)) == [(None, 3, 5), (None, 3)]


def test_matrix_state_tensorshape(f64):
    x = _x(2, 4, 3)
    layer = RNN(MatrixStateCell(3), return_sequences=True, return_state=True)
    seq, s = layer(x)
    assert seq.shape == (2, 4, 3, 2) and s.shape == (2, 3, 2)
    expected_seq, [expected_s] = _cell_by_hand(layer.cell, x, [mg.zeros((2, 3, 2))])
    np.testing.assert_allclose(seq.numpy(), expected_seq, rtol=1e-12)
    np.testing.assert_allclose(s.numpy(), expected_s, rtol=1e-12)
    assert layer.compute_output_shape((None, 4, 3)) == [(None, 4, 3, 2), (None, 3, 2)]


def test_tensorshape_state_size_is_one_state_and_tuple_is_several(f64):
    class Cell:
        def __init__(self, state_size):
            self.state_size = state_size

        def call(self, x, states):
            return x, states

    x = _x(2, 3, 4)
    _, s = RNN(Cell(TensorShape((3, 2))), return_state=True)(x)
    assert s.shape == (2, 3, 2)
    _, a, b = RNN(Cell((3, 2)), return_state=True)(x)
    assert (a.shape, b.shape) == ((2, 3), (2, 2))


def test_four_d_input_gives_three_d_steps(f64):
    x = _x(3, 4, 2, 3)
    layer = RNN(Flatten2DCell(3), return_sequences=True)
    seq = layer(x)
    assert layer.cell.step_shape == (3, 2, 3)
    expected_seq, _ = _cell_by_hand(layer.cell, x, [mg.zeros((3, 3))])
    np.testing.assert_allclose(seq.numpy(), expected_seq, rtol=1e-12)


def test_plain_object_cell_is_not_a_layer(f64):
    cell = PlainAccumulatorCell(gain=2.0)
    layer = RNN(cell, return_sequences=True)
    x = np.ones((2, 3, 4))
    np.testing.assert_allclose(layer(x).numpy()[0, :, 0], [8.0, 16.0, 24.0])
    assert layer.weights == []  # a plain object's variables are not tracked


def test_layer_cell_weights_are_tracked_and_named():
    layer = RNN(MinimalRNNCell(4))
    layer(np.ones((2, 3, 5), dtype="float32"))
    assert [tuple(w.shape) for w in layer.weights] == [(5, 4), (4, 4)]
    assert layer.name.startswith("rnn")
    prefix = f"{layer.name}/{layer.cell.name}"
    assert [w.name for w in layer.weights] == [f"{prefix}/kernel", f"{prefix}/recurrent_kernel"]


def test_go_backwards_returns_processing_order():
    x = np.array([[[1.0], [2.0], [3.0]]], dtype="float32")
    seq, h = RNN(AccumulatorCell(), go_backwards=True, return_sequences=True, return_state=True)(x)
    np.testing.assert_allclose(seq.numpy().ravel(), [3.0, 5.0, 6.0])
    np.testing.assert_allclose(h.numpy().ravel(), [6.0])


def test_go_backwards_equals_forward_on_reversed_input(f64):
    x = _x(2, 5, 3)
    forward = RNN(MinimalRNNCell(3), return_sequences=True)
    expected = forward(x[:, ::-1].copy())
    backward = RNN(forward.cell, return_sequences=True, go_backwards=True)
    np.testing.assert_allclose(backward(x).numpy(), expected.numpy(), rtol=1e-12)


def test_time_major_transposes_inputs_and_outputs(f64):
    x = _x(2, 5, 3)
    batch_major = RNN(TwoStateCell(3, 2), return_sequences=True, return_state=True)
    seq, h, m = batch_major(x)
    time_major = RNN(batch_major.cell, return_sequences=True, return_state=True, time_major=True)
    seq_t, h_t, m_t = time_major(np.swapaxes(x, 0, 1).copy())
    np.testing.assert_allclose(seq_t.numpy(), np.swapaxes(seq.numpy(), 0, 1), rtol=1e-12)
    np.testing.assert_allclose(h_t.numpy(), h.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m_t.numpy(), m.numpy(), rtol=1e-12)
    assert time_major.compute_output_shape((5, None, 3))[0] == (5, None, 3)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_unroll_true_and_false_are_identical(f64, go_backwards):
    x = _x(2, 4, 3)
    mask = np.array([[True, True, False, True], [False, True, True, True]])
    rolled = RNN(
        TwoStateCell(3, 2), return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    unrolled = RNN(
        rolled.cell,
        return_sequences=True,
        return_state=True,
        unroll=True,
        go_backwards=go_backwards,
    )
    for a, b in zip(rolled(x, mask=mask), unrolled(x, mask=mask), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_initial_state_single_tensor_or_list(f64):
    x = _x(2, 3, 3)
    h0 = _x(2, 4)
    layer = RNN(MinimalRNNCell(4))
    a = layer(x, initial_state=h0)
    b = layer(x, initial_state=[mg.tensor(h0)])
    _, [expected] = _cell_by_hand(layer.cell, x, [mg.tensor(h0)])
    np.testing.assert_allclose(a.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(b.numpy(), expected, rtol=1e-12)


def test_custom_get_initial_state_is_used(f64):
    x = _x(2, 3, 3)
    layer = RNN(OnesInitialStateCell(4))
    out = layer(x)
    _, [expected] = _cell_by_hand(layer.cell, x, [mg.ones((2, 4))])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    [h0] = layer.get_initial_state(mg.tensor(x))
    np.testing.assert_array_equal(h0.numpy(), np.ones((2, 4)))


def test_get_initial_state_zeros_nested_like_states(f64):
    layer = RNN(TwoStateCell(3, 2))
    h, m = layer.get_initial_state(np.ones((5, 2, 7)))
    assert (h.shape, m.shape) == ((5, 3), (5, 2))
    assert not h.numpy().any()


def test_constants_reach_every_step(f64):
    x, c = _x(2, 4, 3), _x(2, 5)
    layer = RNN(ConstantsRNNCell(3, 5), return_sequences=True)
    seq = layer(x, constants=[c])
    cell, h, outputs = layer.cell, mg.zeros((2, 3)), []
    for t in range(4):
        y, [h] = cell.call(mg.tensor(x[:, t]), [h], constants=[mg.tensor(c)])
        outputs.append(y.numpy())
    np.testing.assert_allclose(seq.numpy(), np.stack(outputs, 1), rtol=1e-12)


def test_training_is_forwarded_and_dropout_masks_reset_once_per_call():
    cell = TrainingFlagCell()
    layer = RNN(cell)
    out = layer(np.zeros((1, 3, 2), dtype="float32"), training=True)
    assert cell.seen == [True, True, True] and float(out.numpy()[0, 0]) == 3.0
    layer(np.zeros((1, 3, 2), dtype="float32"), training=False)
    assert cell.seen[3:] == [False, False, False]
    assert cell.resets == 2


def test_return_forms_and_compute_output_shape(f64):
    x = _x(2, 3, 4)
    cell = TwoStateCell(5, 2)
    for sequences in (False, True):
        layer = RNN(cell, return_sequences=sequences, return_state=True)
        result = layer(x)
        expected = layer.compute_output_shape((2, 3, 4))
        assert [r.shape for r in result] == expected
    assert RNN(cell).compute_output_shape((None, None, 4)) == (None, 5)
    assert RNN(cell, return_sequences=True).compute_output_shape((None, None, 4)) == (
        None,
        None,
        5,
    )


def test_compute_mask():
    mask = mg.tensor(np.array([[True, False]]))
    assert RNN(MinimalRNNCell(2)).compute_mask(None, mask) is None
    assert RNN(MinimalRNNCell(2), return_sequences=True).compute_mask(None, mask) is mask
    masks = RNN(TwoStateCell(2, 2), return_sequences=True, return_state=True).compute_mask(
        None, mask
    )
    assert masks[0] is mask and masks[1:] == [None, None]


def test_list_of_cells_means_stacked_cells():
    layer = RNN([MinimalRNNCell(2), MinimalRNNCell(3)])
    assert isinstance(layer.cell, StackedRNNCells)


def test_config_copy_makes_a_fresh_cell():
    layer = RNN(MinimalRNNCell(3), return_sequences=True, go_backwards=True, truncate_gradient=2)
    config = layer.get_config()
    copy = RNN.from_config({**config, "name": "copy"})
    assert copy.cell is not layer.cell and copy.cell.units == 3
    assert (copy.return_sequences, copy.go_backwards, copy.truncate_gradient) == (True, True, 2)
    assert "zero_output_for_mask" not in config
    assert RNN(MinimalRNNCell(3), zero_output_for_mask=True).get_config()["zero_output_for_mask"]


# -- gradients ------------------------------------------------------------------------------------


def _gradcheck_layer(layer, x, extra_inputs=(), call=None):
    """gradcheck of sum(output * weights_of_outputs) w.r.t. x, the cell weights and extras."""
    call = call or (lambda lay, x: lay(x))
    call(layer, x, *extra_inputs)  # build
    cell = layer.cell
    names = weight_attributes(cell)
    weights = [getattr(cell, n).numpy() for n in names]
    rng = np.random.default_rng(1)
    cotangents = {}

    def f(x, *rest):
        ws, extras = rest[: len(names)], rest[len(names) :]
        rebind(cell, names, ws)
        result = call(layer, x, *extras)
        total = mg.tensor(0.0)
        for i, r in enumerate(mg.nest.flatten(result)):
            if i not in cotangents:
                cotangents[i] = rng.normal(size=r.shape)
            total = total + mg.sum(r * cotangents[i])
        return total

    try:
        mg.gradcheck(f, [x, *weights, *extra_inputs])
    finally:
        rebind(cell, names, [mg.Variable(w, name=n) for n, w in zip(names, weights, strict=True)])


@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradcheck_two_state_cell(f64, go_backwards):
    layer = RNN(
        TwoStateCell(3, 2), return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    h0, m0 = _x(2, 3) * 0.5, _x(2, 2) * 0.5
    _gradcheck_layer(
        layer, _x(2, 5, 3), [h0, m0], call=lambda lay, x, h, m: lay(x, initial_state=[h, m])
    )


def test_gradcheck_constants(f64):
    layer = RNN(ConstantsRNNCell(3, 2), return_state=True)
    _gradcheck_layer(layer, _x(2, 5, 3), [_x(2, 2)], call=lambda lay, x, c: lay(x, constants=[c]))


def test_gradcheck_matrix_state(f64):
    _gradcheck_layer(RNN(MatrixStateCell(2), return_sequences=True), _x(2, 5, 3))


def test_constant_gradient_accumulates_over_steps(f64):
    layer = RNN(ConstantsRNNCell(3, 2))
    x, c = mg.tensor(_x(2, 4, 3)), mg.tensor(_x(2, 2))
    with mg.GradientTape() as tape:
        tape.watch(c)
        out = layer(x, constants=[c])
    grad = tape.gradient(out, c)
    contributions = [r for r in tape.records if r.op == "matmul" and any(i is c for i in r.inputs)]
    assert len(contributions) == 4 and grad.shape == (2, 2)


# -- name scopes and per-step weight reads --------------------------------------------------------


def test_every_step_runs_in_its_name_scope(f64):
    layer = RNN(TwoStateCell(3, 2), name="rnn", return_sequences=True)
    x = mg.tensor(_x(2, 4, 3))
    with mg.GradientTape() as tape:
        tape.watch(x)
        layer(x)
    scopes = [r.scope for r in tape.records]
    in_steps = [s for s in scopes if s]
    assert sorted(set(in_steps)) == [f"rnn/t{t}" for t in range(4)]
    # outside the steps: the one unstack of the input and the final stacking of the outputs
    assert [r.op for r in tape.records if not r.scope] == ["unstack", "concat"]
    first = [r.op for r in tape.records if r.scope == "rnn/t0"]
    assert first[-1] == "reshape"  # ... expand y_t


def test_go_backwards_scopes_count_processing_steps(f64):
    layer = RNN(AccumulatorCell(), name="back", go_backwards=True)
    x = mg.tensor(np.arange(3.0).reshape(1, 3, 1))
    with mg.GradientTape() as tape:
        tape.watch(x)
        layer(x)
    first_sum = next(r for r in tape.records if r.op == "sum")  # sum(x_t) of the first step
    assert first_sum.scope == "back/t0" and float(first_sum.inputs[0].numpy().ravel()[0]) == 2.0


def test_recording_steps_reads_weights_per_step(f64):
    layer = RNN(TwoStateCell(3, 2), name="rnn")
    x = mg.tensor(_x(2, 5, 3))
    layer(x)
    weights = layer.cell.weights
    with mg.GradientTape(persistent=True) as tape, recording_steps(layer):
        out = layer(x)
        loss = mg.sum(out * out)
    reads = [
        r for r in tape.records if r.op == "identity" and r.scope.count("/") == 1
    ]  # weight reads
    assert len(reads) == len(weights) * 5
    for t in range(5):
        step_reads = [r for r in reads if r.scope == f"rnn/t{t}"]
        assert {id(r.inputs[0]) for r in step_reads} == {id(w) for w in weights}
    full = tape.gradient(loss, weights)
    for w, g in zip(weights, full, strict=True):
        step_reads = [r.outputs[0] for r in reads if r.inputs[0] is w]
        per_step = tape.gradient(loss, step_reads, unconnected_gradients="zero")
        np.testing.assert_allclose(sum(p.numpy() for p in per_step), g.numpy(), rtol=1e-12)
    assert all(
        getattr(layer.cell, n) is w
        for n, w in zip(weight_attributes(layer.cell), weights, strict=True)
    )
    with mg.GradientTape() as tape:
        layer(x)
    assert not [r for r in tape.records if r.op == "identity"]


def test_recording_steps_reaches_stacked_cells(f64):
    layer = RNN([MinimalRNNCell(2), TwoStateCell(3, 2)], name="stack")
    x = mg.tensor(_x(2, 3, 4))
    layer(x)
    with mg.GradientTape() as tape, recording_steps(layer):
        layer(x)
    reads = [
        r for r in tape.records if r.op == "identity" and r.scope.count("/") == 1
    ]  # weight reads
    assert len(reads) == 6 * 3
    assert {r.scope for r in reads} == {"stack/t0", "stack/t1", "stack/t2"}


def test_recording_steps_restores_attributes_after_an_error(f64):
    cell = MinimalRNNCell(2)
    layer = RNN(cell)
    layer(np.ones((1, 2, 3)))
    kernel = cell.kernel
    with pytest.raises(ValueError), recording_steps(layer):
        layer(np.ones((1, 2, 3)), initial_state=[np.ones((1, 5))])
    with pytest.raises(ValueError), mg.GradientTape(), recording_steps(layer):
        layer(np.ones((1, 2, 4)))  # the kernel does not fit: fails inside a step
    assert cell.kernel is kernel


# -- TensorShape ----------------------------------------------------------------------------------


def test_tensorshape():
    s = TensorShape((3, 2))
    assert list(s) == [3, 2] and len(s) == 2 and s[1] == 2 and s.as_list() == [3, 2]
    assert s == (3, 2) and s == [3, 2] and s == TensorShape([3, 2]) and s != (2, 3)
    assert s[1:] == TensorShape((2,)) and repr(s) == "TensorShape([3, 2])"
    assert hash(s) == hash((3, 2)) and TensorShape(s) == s and TensorShape(None).as_list() == [None]
    with pytest.raises(ValueError, match="non-negative"):
        TensorShape((3, -1))


# -- symbolic inputs -------------------------------------------------------------------------------


def test_symbolic_input_and_functional_model():
    from minigrad_layers.engine.input_layer import Input
    from minigrad_layers.engine.model import Model

    x = Input((None, 5))
    seq = RNN(MinimalRNNCell(3), return_sequences=True)(x)
    out, h, m = RNN(TwoStateCell(4, 2), return_state=True)(seq)
    assert (seq.shape, out.shape, h.shape, m.shape) == (
        (None, None, 3),
        (None, 4),
        (None, 4),
        (None, 2),
    )
    stacked = RNN([MinimalRNNCell(2), TwoStateCell(3, 2)], return_state=True)(x)
    assert [stacked[0].shape, stacked[1].shape, [s.shape for s in stacked[2]]] == [
        (None, 3), (None, 2), [(None, 3), (None, 2)]
    ]  # fmt: skip
    predictions = Model(x, [out, h, m]).predict(np.ones((6, 4, 5), dtype="float32"), verbose=0)
    assert [p.shape for p in predictions] == [(6, 4), (6, 4), (6, 2)]


def test_symbolic_initial_state_encoder_decoder():
    from minigrad_layers.engine.input_layer import Input
    from minigrad_layers.engine.model import Model

    encoder_in, decoder_in = Input((None, 3)), Input((None, 3))
    _, h, m = RNN(TwoStateCell(4, 2), return_state=True)(encoder_in)
    decoded = RNN(TwoStateCell(4, 2), return_sequences=True)(decoder_in, initial_state=[h, m])
    model = Model([encoder_in, decoder_in], decoded)
    result = model.predict([np.ones((2, 5, 3)), np.ones((2, 3, 3))], verbose=0)
    assert result.shape == (2, 3, 4)
