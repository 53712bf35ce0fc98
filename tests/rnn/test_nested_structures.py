"""Nested inputs and outputs (tf.keras 2's "RNNs with list/dict inputs, or nested inputs"): the
guide's NestedCell and a dict cell against numpy loops written here; masks, go_backwards,
time_major, return_state, checkpointed segments, gradcheck, training on two inputs and two
targets, the symbolic path, and the errors for structures that do not fit."""

import re

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers import layers
from minigrad_layers.engine.masks import set_keras_mask

U1, U2, U3, I1, I2, I3 = 4, 3, 5, 6, 4, 3


class NestedCell(layers.Layer):
    """The guide's cell: two inputs, two states (one 2-D), two outputs."""

    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.state_size = [mgl.TensorShape([unit_1]), mgl.TensorShape([unit_2, unit_3])]
        self.output_size = [mgl.TensorShape([unit_1]), mgl.TensorShape([unit_2, unit_3])]
        super().__init__(**kwargs)

    def build(self, input_shapes):
        i1, i2, i3 = input_shapes[0][1], input_shapes[1][1], input_shapes[1][2]
        self.kernel_1 = self.add_weight(
            shape=(i1, self.unit_1), initializer="uniform", name="kernel_1"
        )
        self.kernel_2_3 = self.add_weight(
            shape=(i2, i3, self.unit_2, self.unit_3), initializer="uniform", name="kernel_2_3"
        )

    def call(self, inputs, states):
        input_1, input_2 = mg.nest.flatten(inputs)
        s1, s2 = states
        output_1 = mg.matmul(input_1, self.kernel_1)
        output_2_3 = mg.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        return (output_1, output_2_3), (s1 + output_1, s2 + output_2_3)

    def get_config(self):
        return {"unit_1": self.unit_1, "unit_2": self.unit_2, "unit_3": self.unit_3}


class DictCell(layers.Layer):
    """Dict inputs ``{"a": (B, p), "b": (B, q)}`` and dict outputs ``{"h": (B, n), "m": (B, 2, n)}``
    that depend on the states (so masked steps carry outputs that are not the inputs')::

        h = tanh(a Wa + h_prev U)
        m = tanh(0.5 m_prev + (b Wb)[:, None] + h[:, None])
    """

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = [units, mgl.TensorShape([2, units])]
        self.output_size = {"h": units, "m": mgl.TensorShape([2, units])}
        super().__init__(**kwargs)

    def build(self, input_shapes):
        n = self.units
        self.wa = self.add_weight("wa", (input_shapes["a"][1], n), initializer="glorot_uniform")
        self.wb = self.add_weight("wb", (input_shapes["b"][1], n), initializer="glorot_uniform")
        self.u = self.add_weight("u", (n, n), initializer="orthogonal")

    def call(self, inputs, states):
        h_prev, m_prev = states
        h = mg.tanh(mg.matmul(inputs["a"], self.wa) + mg.matmul(h_prev, self.u))
        drive = mg.expand_dims(mg.matmul(inputs["b"], self.wb) + h, 1)
        m = mg.tanh(0.5 * m_prev + drive)
        return {"h": h, "m": m}, [h, m]


@pytest.fixture
def f64():
    mg.set_floatx("float64")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _nested_data(batch=3, steps=5, seed=0):
    rng = _rng(seed)
    return rng.normal(size=(batch, steps, I1)), rng.normal(size=(batch, steps, I2, I3))


def _scan_reference(step, xs, states, mask, go_backwards, zero_output):
    """The TF rules in numpy: every step runs; a masked step keeps the states and outputs the
    previous output (zeros before the first step; zeros always with zero_output_for_mask).
    ``xs``: arrays (B, T, ...); ``step(x_t list, states) -> (outputs list, states list)``."""
    steps = xs[0].shape[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    previous, sequences = None, []
    for i in order:
        outputs, new_states = step([x[:, i] for x in xs], states)
        if mask is not None:
            keep = mask[:, i]

            def select(new, old, keep=keep):
                return np.where(keep.reshape((-1,) + (1,) * (new.ndim - 1)), new, old)

            states = [select(n, s) for n, s in zip(new_states, states, strict=True)]
            hidden = previous if previous is not None and not zero_output else None
            hidden = hidden or [np.zeros_like(o) for o in outputs]
            outputs = [select(o, h) for o, h in zip(outputs, hidden, strict=True)]
        else:
            states = new_states
        previous = outputs
        sequences.append(outputs)
    stacked = [np.stack([s[k] for s in sequences], axis=1) for k in range(len(previous))]
    return previous, stacked, states


def _nested_step(k1, k23):
    def step(x_t, states):
        o1 = x_t[0] @ k1
        o23 = np.einsum("bij,ijkl->bkl", x_t[1], k23)
        return [o1, o23], [states[0] + o1, states[1] + o23]

    return step


def _dict_step(cell):
    wa, wb, u = cell.wa.numpy(), cell.wb.numpy(), cell.u.numpy()

    def step(x_t, states):
        a, b = x_t  # flat order: sorted keys
        h = np.tanh(a @ wa + states[0] @ u)
        m = np.tanh(0.5 * states[1] + (b @ wb + h)[:, None, :])
        return [h, m], [h, m]

    return step


MASK = np.array([[True, True, False, True, False], [False, True, True, False, True], [True] * 5])


@pytest.mark.parametrize("unroll", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("mask", [None, MASK], ids=["no_mask", "mask"])
def test_nested_cell_matches_the_numpy_loop(f64, unroll, go_backwards, mask):
    x1, x2 = _nested_data()
    rng = _rng(1)
    s0 = [rng.normal(size=(3, U1)), rng.normal(size=(3, U2, U3))]
    layer = layers.RNN(
        NestedCell(U1, U2, U3),
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
        unroll=unroll,
    )
    (seq_1, seq_2), s1, s2 = layer((x1, x2), mask=mask, initial_state=s0)
    cell = layer.cell
    step = _nested_step(cell.kernel_1.numpy(), cell.kernel_2_3.numpy())
    _, sequences, states = _scan_reference(step, [x1, x2], s0, mask, go_backwards, False)
    assert seq_1.shape == (3, 5, U1) and seq_2.shape == (3, 5, U2, U3)
    np.testing.assert_allclose(seq_1.numpy(), sequences[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(seq_2.numpy(), sequences[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s1.numpy(), states[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s2.numpy(), states[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_dict_inputs_and_outputs_with_a_mask(f64, go_backwards, zero_output):
    rng = _rng(2)
    x = {"a": rng.normal(size=(3, 5, 2)), "b": rng.normal(size=(3, 5, 3))}
    layer = layers.RNN(
        DictCell(4),
        return_state=True,
        go_backwards=go_backwards,
        zero_output_for_mask=zero_output,
    )
    output, h, m = layer(x, mask=MASK)
    assert sorted(output) == ["h", "m"]
    step = _dict_step(layer.cell)
    s0 = [np.zeros((3, 4)), np.zeros((3, 2, 4))]
    last, _, states = _scan_reference(step, [x["a"], x["b"]], s0, MASK, go_backwards, zero_output)
    np.testing.assert_allclose(output["h"].numpy(), last[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(output["m"].numpy(), last[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), states[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m.numpy(), states[1], rtol=1e-12, atol=1e-12)


def test_the_output_repeats_the_last_kept_step_of_every_output(f64):
    x1, x2 = _nested_data()
    layer = layers.RNN(NestedCell(U1, U2, U3), return_sequences=True)
    seq_1, seq_2 = layer((x1, x2), mask=MASK)
    # row 0 keeps steps 0, 1, 3: step 2 repeats step 1 and step 4 repeats step 3
    for seq in (seq_1.numpy(), seq_2.numpy()):
        np.testing.assert_array_equal(seq[0, 2], seq[0, 1])
        np.testing.assert_array_equal(seq[0, 4], seq[0, 3])
        assert not np.any(seq[1, 0])  # row 1's first step is masked: zeros


def test_time_major_transposes_every_sequence(f64):
    x1, x2 = _nested_data()
    batch_major = layers.RNN(NestedCell(U1, U2, U3), return_sequences=True, return_state=True)
    expected = batch_major((x1, x2), mask=MASK)
    time_major = layers.RNN(
        NestedCell(U1, U2, U3), return_sequences=True, return_state=True, time_major=True
    )
    time_major((x1.swapaxes(0, 1), x2.swapaxes(0, 1)))
    time_major.set_weights(batch_major.get_weights())
    (seq_1, seq_2), s1, s2 = time_major((x1.swapaxes(0, 1), x2.swapaxes(0, 1)), mask=MASK)
    np.testing.assert_allclose(seq_1.numpy().swapaxes(0, 1), expected[0][0].numpy(), 1e-12)
    np.testing.assert_allclose(seq_2.numpy().swapaxes(0, 1), expected[0][1].numpy(), 1e-12)
    np.testing.assert_allclose(s2.numpy(), expected[2].numpy(), 1e-12)


def test_a_returned_sequence_carries_the_mask_on_every_output():
    x1, x2 = _nested_data()
    t1, t2 = mg.tensor(x1), mg.tensor(x2)
    set_keras_mask(t1, mg.tensor(MASK))
    seq_1, seq_2 = layers.RNN(NestedCell(U1, U2, U3), return_sequences=True)((t1, t2))
    for seq in (seq_1, seq_2):
        np.testing.assert_array_equal(mgl.get_keras_mask(seq).numpy(), MASK)


def test_the_mask_attached_to_one_sequence_masks_the_whole_input(f64):
    x1, x2 = _nested_data()
    layer = layers.RNN(NestedCell(U1, U2, U3), return_sequences=True)
    explicit = layer((x1, x2), mask=MASK)
    t2 = mg.tensor(x2)
    set_keras_mask(t2, mg.tensor(MASK))
    attached = layer((mg.tensor(x1), t2))
    for a, b in zip(explicit, attached, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_checkpointed_segments_give_the_numbers_and_gradients_of_plain_bptt(f64):
    rng = _rng(3)
    x = {"a": rng.normal(size=(3, 5, 2)), "b": rng.normal(size=(3, 5, 3))}
    plain = layers.RNN(DictCell(4), return_sequences=True, return_state=True)
    plain(x)
    segmented = layers.RNN(
        DictCell(4), return_sequences=True, return_state=True, checkpoint_every=2
    )
    segmented(x)
    segmented.set_weights(plain.get_weights())
    results = []
    for layer in (plain, segmented):
        with mg.GradientTape() as tape:
            seq, h, m = layer(x, mask=MASK)
            loss = mg.sum(seq["h"] ** 2) + mg.sum(seq["m"] * 0.3) + mg.sum(h) + mg.sum(m**2)
        results.append((loss.numpy(), [g.numpy() for g in tape.gradient(loss, layer.weights)]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    for g_plain, g_segmented in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_allclose(g_plain, g_segmented, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradcheck_nested_cell_with_mask_and_initial_state(f64, go_backwards):
    x1, x2 = _nested_data(batch=2, steps=4)
    mask = MASK[:2, :4]
    rng = _rng(4)
    s0 = [rng.normal(size=(2, U1)), rng.normal(size=(2, U2, U3))]
    layer = layers.RNN(
        NestedCell(U1, U2, U3), return_sequences=True, return_state=True, go_backwards=go_backwards
    )
    layer((x1, x2))
    cell = layer.cell
    cotangents = [rng.normal(size=s) for s in [(2, 4, U1), (2, 4, U2, U3), (2, U1), (2, U2, U3)]]

    def f(x1, x2, h1, h2, k1, k23):
        object.__setattr__(cell, "kernel_1", k1)
        object.__setattr__(cell, "kernel_2_3", k23)
        (seq_1, seq_2), s1, s2 = layer((x1, x2), mask=mask, initial_state=[h1, h2])
        results = [seq_1, seq_2, s1, s2]
        return sum(mg.sum(r * c) for r, c in zip(results, cotangents, strict=True))

    mg.gradcheck(f, [x1, x2, *s0, cell.kernel_1.numpy(), cell.kernel_2_3.numpy()])


def test_gradcheck_dict_cell_with_mask(f64):
    rng = _rng(5)
    a, b = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 3))
    mask = MASK[:2, :4]
    layer = layers.RNN(DictCell(3), return_sequences=True, go_backwards=True)
    layer({"a": a, "b": b})
    cell = layer.cell
    cot_h, cot_m = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 2, 3))

    def f(a, b, wa, wb, u):
        for name, value in (("wa", wa), ("wb", wb), ("u", u)):
            object.__setattr__(cell, name, value)
        seq = layer({"a": a, "b": b}, mask=mask)
        return mg.sum(seq["h"] * cot_h) + mg.sum(seq["m"] * cot_m)

    weights = [cell.wa.numpy(), cell.wb.numpy(), cell.u.numpy()]
    mg.gradcheck(f, [a, b, *weights])


def test_stateful_nested_layer_continues_where_it_stopped(f64):
    x1, x2 = _nested_data(batch=2, steps=6)
    whole = layers.RNN(NestedCell(U1, U2, U3), return_state=True)
    _, w1, w2 = whole((x1, x2))
    pieces = layers.RNN(NestedCell(U1, U2, U3), return_state=True, stateful=True)
    pieces((x1[:, :3], x2[:, :3]))
    pieces.set_weights(whole.get_weights())
    pieces.reset_states()
    pieces((x1[:, :3], x2[:, :3]))
    _, p1, p2 = pieces((x1[:, 3:], x2[:, 3:]))
    np.testing.assert_allclose(p1.numpy(), w1.numpy(), rtol=1e-12)
    np.testing.assert_allclose(p2.numpy(), w2.numpy(), rtol=1e-12)


def test_fit_on_two_inputs_and_two_targets_as_the_guide_does():
    batch, timestep = 8, 7
    rnn = layers.RNN(NestedCell(U1, U2, U3))
    input_1, input_2 = mgl.Input((None, I1)), mgl.Input((None, I2, I3))
    outputs = rnn((input_1, input_2))
    model = mgl.Model([input_1, input_2], outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])
    rng = _rng(6)
    input_data = [rng.random((4 * batch, timestep, I1)), rng.random((4 * batch, timestep, I2, I3))]
    target_data = [rng.random((4 * batch, U1)), rng.random((4 * batch, U2, U3))]
    history = model.fit(input_data, target_data, batch_size=batch, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert losses[2] < losses[1] < losses[0]
    assert {"rnn_loss", "rnn_1_loss"} <= set(history.history)  # one per output, uniquified
    out_1, out_2 = model.predict(input_data, verbose=0)
    # the RNN returns the cell's output at the last step (the states are what accumulates)
    kernel_1, kernel_2_3 = rnn.cell.kernel_1.numpy(), rnn.cell.kernel_2_3.numpy()
    np.testing.assert_allclose(out_1, input_data[0][:, -1] @ kernel_1, rtol=1e-4, atol=1e-6)
    expected_2 = np.einsum("bij,ijkl->bkl", input_data[1][:, -1], kernel_2_3)
    np.testing.assert_allclose(out_2, expected_2, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, [(None, U1), (None, U2, U3)]),
        ({"return_sequences": True}, [(None, 7, U1), (None, 7, U2, U3)]),
        (
            {"return_state": True},
            [[(None, U1), (None, U2, U3)], (None, U1), (None, U2, U3)],
        ),
        (
            {"return_sequences": True, "time_major": True},
            [(7, None, U1), (7, None, U2, U3)],
        ),
    ],
)
def test_symbolic_call_gives_nested_outputs(options, expected):
    shapes = [(7, I1), (7, I2, I3)]
    if options.get("time_major"):
        inputs = tuple(mgl.Input(batch_shape=(7, None, *s[1:])) for s in shapes)
    else:
        inputs = tuple(mgl.Input(s) for s in shapes)
    layer = layers.RNN(NestedCell(U1, U2, U3), **options)
    outputs = layer(inputs)
    assert mg.nest.map_structure(lambda t: t.shape, outputs) == expected
    assert layer.compute_output_shape([t.shape for t in inputs]) == expected


def test_symbolic_dict_input_and_output():
    inputs = {"a": mgl.Input((None, 2)), "b": mgl.Input((None, 3))}
    outputs = layers.RNN(DictCell(4), return_sequences=True)(inputs)
    assert {k: v.shape for k, v in outputs.items()} == {
        "h": (None, None, 4),
        "m": (None, None, 2, 4),
    }


# -- bad structures ------------------------------------------------------------------------


def _names_layer_and_cell(info, layer_name="nested_rnn", cell_name="nested_cell"):
    message = str(info.value)
    assert repr(layer_name) in message and cell_name in message, message


def test_one_sequence_for_a_cell_that_takes_two():
    x1, _ = _nested_data()
    layer = layers.RNN(NestedCell(U1, U2, U3, name="nested_cell"), name="nested_rnn")
    with pytest.raises(ValueError, match="while building on the step shapes") as info:
        layer(x1)
    _names_layer_and_cell(info)


def test_three_sequences_for_a_cell_that_takes_two():
    x1, x2 = _nested_data()
    layer = layers.RNN(NestedCell(U1, U2, U3, name="nested_cell"), name="nested_rnn")
    layer.build([x1.shape, x2.shape, x1.shape])
    with pytest.raises(ValueError, match="too many values to unpack") as info:
        layer((x1, x2, x1))
    _names_layer_and_cell(info)
    assert "on the step inputs [(3, 6), (3, 4, 3), (3, 6)]" in str(info.value)


def test_inputs_nested_otherwise_than_the_layer_was_built_on():
    x1, x2 = _nested_data()
    layer = layers.RNN(NestedCell(U1, U2, U3, name="nested_cell"), name="nested_rnn")
    layer((x1, x2))
    for bad in [(x2, x1), (x1,), [x1, [x2]], {"a": x1, "b": x2}, x1]:
        with pytest.raises(ValueError, match="was built for inputs nested as") as info:
            layer(bad)
        _names_layer_and_cell(info)


def test_sequences_of_different_lengths_or_batches():
    x1, x2 = _nested_data()
    layer = layers.RNN(NestedCell(U1, U2, U3), name="nested_rnn")
    with pytest.raises(ValueError, match=re.escape("received shapes [(3, 5, 6), (3, 4, 4, 3)]")):
        layer((x1, x2[:, :4]))
    with pytest.raises(ValueError, match="'nested_rnn'.*share the batch size"):
        layer((x1[:2], x2))


def test_masks_that_disagree():
    x1, x2 = _nested_data()
    t1, t2 = mg.tensor(x1), mg.tensor(x2)
    set_keras_mask(t1, mg.tensor(MASK))
    set_keras_mask(t2, mg.tensor(~MASK))
    with pytest.raises(ValueError, match="'nested_rnn'.*different masks"):
        layers.RNN(NestedCell(U1, U2, U3), name="nested_rnn")((t1, t2))


def test_initial_state_nested_otherwise_than_the_states():
    x1, x2 = _nested_data()
    layer = layers.RNN(NestedCell(U1, U2, U3, name="nested_cell"), name="nested_rnn")
    with pytest.raises(ValueError, match="has 2 states but was passed 3") as info:
        layer((x1, x2), initial_state=[np.zeros((3, U1))] * 3)
    assert "'nested_cell' (NestedCell)" in str(info.value)
    with pytest.raises(ValueError, match="nested like the states") as info:
        layer((x1, x2), initial_state=[[np.zeros((3, U1)), np.zeros((3, U2, U3))]])
    assert "'nested_cell' (NestedCell)" in str(info.value)


def test_cell_returning_states_otherwise_than_its_state_size():
    class SwappedStates(NestedCell):
        def call(self, inputs, states):
            outputs, (s1, s2) = super().call(inputs, states)
            return outputs, (s2, s1)

    x1, x2 = _nested_data()
    layer = layers.RNN(SwappedStates(U1, U2, U3, name="nested_cell"), name="nested_rnn")
    with pytest.raises(ValueError, match=re.escape("returned state 0 of shape (3, 3, 5)")) as info:
        layer((x1, x2))
    _names_layer_and_cell(info)


def test_cell_returning_outputs_otherwise_than_its_output_size():
    class OneOutput(NestedCell):
        def call(self, inputs, states):
            (o1, _), new_states = super().call(inputs, states)
            return [o1], new_states

    class Undeclared(NestedCell):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            del self.output_size

    x1, x2 = _nested_data()
    layer = layers.RNN(OneOutput(U1, U2, U3, name="nested_cell"), name="nested_rnn")
    with pytest.raises(ValueError, match=re.escape("output of shape [(3, 4)], expected")) as info:
        layer((x1, x2))
    _names_layer_and_cell(info)
    layer = layers.RNN(Undeclared(U1, U2, U3, name="nested_cell"), name="nested_rnn")
    with pytest.raises(ValueError, match="declares them in a nested `output_size`") as info:
        layer((x1, x2))
    _names_layer_and_cell(info)


def test_a_built_in_cell_given_a_nested_input():
    x1, _ = _nested_data()
    with pytest.raises(ValueError, match="'lstm'.*'lstm_cell' \\(LSTMCell\\)"):
        mgl.LSTM(3, name="lstm")((x1, x1))


def test_recording_steps_keeps_nested_step_inputs_and_trace_bptt_refuses_them():
    from minigrad_layers.inspect import trace_bptt
    from minigrad_layers.inspect.observer import recording_steps

    x1, x2 = _nested_data(steps=3)
    layer = layers.RNN(NestedCell(U1, U2, U3), name="nested_rnn", go_backwards=True)
    with recording_steps(layer) as recorder:
        layer((x1, x2))
    first_1, first_2 = recorder.step_inputs[0]  # processing step 0 reads position T-1
    np.testing.assert_allclose(first_1, x1[:, -1], rtol=1e-6)
    np.testing.assert_allclose(first_2, x2[:, -1], rtol=1e-6)
    with pytest.raises(TypeError, match="'nested_rnn'.*tuple of sequences"):
        trace_bptt(layer, (x1, x2), lambda out: mg.sum(out[0]))
