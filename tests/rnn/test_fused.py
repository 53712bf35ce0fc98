"""The fused whole-sequence path of the built-in cells against the per-step loop: a SimpleRNN,
LSTM or GRU layer with ``unroll=False`` records one ``*_sequence`` op for the whole sequence,
while ``unroll=True`` always runs the per-step loop and is the reference. In float64 both give the
same outputs, final states and tape gradients (input, weights, initial states) under every RNN
feature (masks with a non-zero initial state, go_backwards, time_major, zero_output_for_mask,
truncate_gradient, stateful, use_bias, unit_forget_bias, Embedding masks in models,
Bidirectional); the fused path is really taken, and every configuration it does not cover
(an attached step observer, trace_bptt, recurrent dropout in training, other activations,
stacked cells, subclasses) falls back to the per-step loop; gradcheck passes through the fused
op; float32 agrees within float32 tolerances; odd and large batch shapes agree."""

import functools

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad_layers as mgl
from minigrad.nest import flatten
from minigrad_layers.inspect.observer import recording_steps

B, T, D, H = 3, 6, 4, 5
SEQUENCE_OPS = {"simple_rnn_sequence", "lstm_sequence", "gru_sequence"}

# kind -> (layer class taking (units, **kwargs), the op of its fused record, number of states)
KINDS = {
    "simple_rnn": (mgl.SimpleRNN, "simple_rnn_sequence", 1),
    "lstm": (mgl.LSTM, "lstm_sequence", 2),
    "gru": (functools.partial(mgl.GRU, reset_after=True), "gru_sequence", 1),
    "gru_reset_before": (functools.partial(mgl.GRU, reset_after=False), "gru_sequence", 1),
}
ALL_KINDS = list(KINDS)


def _mask(rows) -> np.ndarray:
    """A ``(B, T)`` mask from one string per row, ``"1"`` = keep, ``"0"`` = masked."""
    return np.array([[c == "1" for c in row] for row in rows])


MASKS = {
    "right_padding": _mask(["111100", "100000", "111111"]),
    "left_padding": _mask(["001111", "000001", "111111"]),
    "hole": _mask(["110111", "101001", "111111"]),
    "empty_row": _mask(["111000", "000000", "011111"]),
}
# right padding, left padding with a hole, and a fully masked row at once
MIXED_MASK = _mask(["111100", "001101", "000000"])


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")  # tests/conftest.py puts float32 back after every test


# -------------------------------------------------------------------------------------------------
# helpers
# -------------------------------------------------------------------------------------------------


def make_layer(kind: str, **kwargs):
    """A SimpleRNN / LSTM / GRU layer of ``H`` units (``kind`` is a key of ``KINDS``)."""
    return KINDS[kind][0](H, **kwargs)


def close(got, expected, rtol=1e-10, atol=1e-12) -> None:
    """Element-wise agreement (float64 tolerances unless given)."""
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=rtol, atol=atol)


def normal(shape, seed, scale=1.0) -> np.ndarray:
    """A fixed random float64 array: ``scale`` times standard normal, from ``seed``."""
    return scale * np.random.default_rng(seed).normal(size=shape)


def randomize_weights(layer, seed=0, scale=0.5) -> None:
    """Set every weight of ``layer`` to ``scale * normal`` (biases included, so that every
    weight's gradient is exercised)."""
    layer.set_weights([normal(w.shape, seed + i, scale) for i, w in enumerate(layer.get_weights())])


def built_twins(make, build_input, randomize=True, seed=0):
    """``(fused, reference) = (make(unroll=False), make(unroll=True))``, both built by a call on
    ``build_input``, the reference holding the fused layer's weights (random ones by default).
    Stateful layers have their states reset afterwards."""
    fused, reference = make(unroll=False), make(unroll=True)
    for layer in (fused, reference):
        layer(build_input)
    if randomize:
        randomize_weights(fused, seed)
    reference.set_weights(fused.get_weights())
    for layer in (fused, reference):
        if getattr(layer, "stateful", False):
            layer.reset_states()
    return fused, reference


def initial_states(kind: str, batch=B, seed=10) -> list[np.ndarray]:
    """Non-zero initial states for a layer of ``kind`` (flat, in state order)."""
    return [normal((batch, H), seed + i) for i in range(KINDS[kind][2])]


def cotangent_loss(outputs, seed=1):
    """sum_i sum(outputs[i] * c_i) with fixed random arrays c_i: every element of every returned
    tensor gets its own upstream gradient."""
    rng = np.random.default_rng(seed)
    total = mg.tensor(0.0, dtype=outputs[0].dtype)
    for out in outputs:
        total = total + mg.sum(out * rng.normal(size=out.shape).astype(out.dtype))
    return total


class TapeRun:
    """One call under a tape: ``outputs`` (flat list of arrays), ``grads`` (arrays: the float
    inputs in order, then ``weights``) and the tape's ``records``."""

    def __init__(self, fn, inputs, weights, seed=1):
        tensors = [a if isinstance(a, mg.Tensor) else mg.tensor(a) for a in inputs]
        floats = [t for t in tensors if t.dtype.kind == "f"]
        with mg.GradientTape() as tape:
            tape.watch(floats)
            outputs = flatten(fn(*tensors))
            loss = cotangent_loss(outputs, seed)
        grads = tape.gradient(loss, [*floats, *weights], unconnected_gradients="zero")
        self.outputs = [o.numpy() for o in outputs]
        self.grads = [g.numpy() for g in grads]
        self.records = tape.records


def assert_same_run(got: TapeRun, expected: TapeRun, rtol=1e-10, atol=1e-12) -> None:
    """Equal outputs and equal gradients, element by element."""
    assert len(got.outputs) == len(expected.outputs)
    for i, (a, b) in enumerate(zip(got.outputs, expected.outputs, strict=True)):
        assert a.shape == b.shape, f"output {i}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"output {i}")
    assert len(got.grads) == len(expected.grads)
    for i, (a, b) in enumerate(zip(got.grads, expected.grads, strict=True)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient {i}")


def run_layer(layer, x, mask=None, states=(), seed=1, **call_kwargs) -> TapeRun:
    """``layer(x, mask=mask, initial_state=states)`` under a tape; gradients with respect to
    ``x``, the initial states and the layer's trainable weights."""

    def call(x, *states):
        kwargs = dict(call_kwargs)
        if mask is not None:
            kwargs["mask"] = mask
        if states:
            kwargs["initial_state"] = list(states)
        return layer(x, **kwargs)

    return TapeRun(call, [x, *states], layer.trainable_weights, seed)


def check_twins(
    kind, layer_kwargs, mask=None, with_states=True, x_shape=(B, T, D), seed=0, **call_kwargs
):
    """Build a fused layer and its per-step reference (``unroll=True``, same weights) of
    ``kind``, run both on the same data and assert equal outputs, states and gradients.
    Returns the fused layer and its run."""
    batch = x_shape[1] if layer_kwargs.get("time_major") else x_shape[0]
    x = normal(x_shape, seed + 100)
    fused, reference = built_twins(
        functools.partial(make_layer, kind, **layer_kwargs), x, seed=seed
    )
    states = initial_states(kind, batch, seed + 200) if with_states else []
    got = run_layer(fused, x, mask, states, **call_kwargs)
    expected = run_layer(reference, x, mask, states, **call_kwargs)
    assert_same_run(got, expected)
    return fused, got


def sequence_ops(records) -> list[str]:
    """The ``*_sequence`` ops among the records, in order."""
    return [r.op for r in records if r.op in SEQUENCE_OPS]


def step_scopes(records, name: str) -> list[str]:
    """The scopes of the records made inside the per-step loop of the layer named ``name``."""
    return [r.scope for r in records if r.scope.startswith(f"{name}/t")]


def assert_fused(records, layer, op: str) -> None:
    """The layer ran on the fused path: one record of ``op``, no other ``*_sequence`` record and
    no per-step scope."""
    assert sequence_ops(records) == [op]
    assert step_scopes(records, layer.name) == []


def assert_per_step(records, layer) -> None:
    """The layer ran the per-step loop: per-step scopes and no ``*_sequence`` record."""
    assert sequence_ops(records) == []
    assert step_scopes(records, layer.name)


# -------------------------------------------------------------------------------------------------
# equal values and gradients, float64
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_outputs_states_and_gradients_match(kind, return_sequences, return_state):
    check_twins(kind, {"return_sequences": return_sequences, "return_state": return_state})


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_default_zero_initial_state_matches(kind):
    check_twins(kind, {"return_sequences": True, "return_state": True}, with_states=False)


@given(
    kind=st.sampled_from(ALL_KINDS),
    batch=st.integers(1, 9),
    steps=st.integers(1, 7),
    options=st.fixed_dictionaries(
        {
            "return_sequences": st.booleans(),
            "go_backwards": st.booleans(),
            "zero_output_for_mask": st.booleans(),
            "truncate_gradient": st.sampled_from([None, 1, 2, 3]),
        }
    ),
    data=st.data(),
)
def test_random_configurations_match(kind, batch, steps, options, data):
    """Any batch and length (rows not a multiple of the 4-row blocks included), any mask."""
    mask = data.draw(st.none() | hnp.arrays(bool, (batch, steps)), label="mask")
    check_twins(kind, {**options, "return_state": True}, mask, x_shape=(batch, steps, D))


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_masks_with_a_nonzero_initial_state(kind, mask_name, return_sequences):
    """Masked steps keep the states; the output before the first kept step is zeros, not the
    (non-zero) initial state."""
    layer_kwargs = {"return_sequences": return_sequences, "return_state": True}
    _, run = check_twins(kind, layer_kwargs, MASKS[mask_name])
    if mask_name == "left_padding" and return_sequences:
        np.testing.assert_array_equal(run.outputs[0][1, :5], 0.0)
    if mask_name == "empty_row":  # row 1 keeps its initial states and outputs zeros
        for state, initial in zip(run.outputs[1:], initial_states(kind, seed=200), strict=True):
            np.testing.assert_array_equal(state[1], initial[1])
        np.testing.assert_array_equal(run.outputs[0][1], 0.0)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_zero_output_for_mask(kind, return_sequences):
    layer_kwargs = {
        "return_sequences": return_sequences,
        "return_state": True,
        "zero_output_for_mask": True,
    }
    _, run = check_twins(kind, layer_kwargs, MIXED_MASK)
    last = run.outputs[0][:, -1] if return_sequences else run.outputs[0]
    np.testing.assert_array_equal(last[[0, 2]], 0.0)  # rows whose last step is masked


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_go_backwards(kind, masked):
    layer_kwargs = {"return_sequences": True, "return_state": True, "go_backwards": True}
    check_twins(kind, layer_kwargs, MIXED_MASK if masked else None)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_time_major_with_mask(kind, go_backwards):
    layer_kwargs = {
        "return_sequences": True,
        "return_state": True,
        "time_major": True,
        "go_backwards": go_backwards,
    }
    check_twins(kind, layer_kwargs, MIXED_MASK, x_shape=(T, B, D))


@pytest.mark.parametrize(
    "k, masked, return_sequences",
    [(2, False, True), (4, True, False), (6, False, False), (9, True, True)],
    ids=["k2", "k4_masked_last", "k6_is_T_last", "k9_masked"],
)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_truncate_gradient(kind, k, masked, return_sequences):
    layer_kwargs = {
        "return_sequences": return_sequences,
        "return_state": True,
        "truncate_gradient": k,
    }
    check_twins(kind, layer_kwargs, MIXED_MASK if masked else None)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_use_bias_false(kind):
    fused, _ = check_twins(
        kind, {"return_sequences": True, "return_state": True, "use_bias": False}, MIXED_MASK
    )
    assert fused.cell.bias is None


@pytest.mark.parametrize("unit_forget_bias", [True, False])
def test_lstm_unit_forget_bias(unit_forget_bias):
    """Random kernels and the bias as initialised: zeros, with the forget block ones only under
    ``unit_forget_bias``."""
    x = normal((B, T, D), 100)
    make = functools.partial(
        mgl.LSTM, H, return_sequences=True, return_state=True, unit_forget_bias=unit_forget_bias
    )
    fused, reference = built_twins(make, x, randomize=False)
    kernel, recurrent_kernel, bias = fused.get_weights()
    np.testing.assert_array_equal(bias[H : 2 * H], float(unit_forget_bias))  # the forget block
    np.testing.assert_array_equal(np.delete(bias, np.s_[H : 2 * H]), 0.0)
    fused.set_weights([normal(kernel.shape, 1, 0.5), normal(recurrent_kernel.shape, 2, 0.5), bias])
    reference.set_weights(fused.get_weights())
    states = initial_states("lstm")
    got = run_layer(fused, x, MIXED_MASK, states)
    assert_same_run(got, run_layer(reference, x, MIXED_MASK, states))


def _kept_states(layer) -> list[np.ndarray]:
    """The kept states of a stateful layer, flat, as arrays."""
    return [s.numpy() for s in flatten(layer.states)]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_stateful_two_calls_and_reset_states(kind):
    x1, x2 = normal((B, T, D), 101), normal((B, T, D), 102)
    fused, reference = built_twins(
        functools.partial(
            make_layer, kind, stateful=True, return_sequences=True, return_state=True
        ),
        x1,
    )
    first = [run_layer(layer, x1) for layer in (fused, reference)]
    assert_same_run(*first)
    for a, b in zip(_kept_states(fused), _kept_states(reference), strict=True):
        close(a, b)
        assert np.abs(a).max() > 0
    # the second call starts from the kept states (detached): gradients of x2 and the weights
    second = [run_layer(layer, x2, MIXED_MASK, seed=2) for layer in (fused, reference)]
    assert_same_run(*second)
    for a, b in zip(_kept_states(fused), _kept_states(reference), strict=True):
        close(a, b)
    assert not np.allclose(second[0].outputs[0], first[0].outputs[0])
    # reset_states(): zeros, so the first call's results come back
    for layer in (fused, reference):
        layer.reset_states()
        assert not any(s.any() for s in _kept_states(layer))
    again = [run_layer(layer, x1) for layer in (fused, reference)]
    assert_same_run(again[0], first[0])
    assert_same_run(again[1], first[1])
    # reset_states(arrays)
    arrays = initial_states(kind, seed=20)
    for layer in (fused, reference):
        layer.reset_states(arrays)
    assert_same_run(*[run_layer(layer, x2) for layer in (fused, reference)])


IDS = np.array([[3, 1, 4, 2, 0, 0], [0, 0, 5, 2, 0, 7], [8, 6, 2, 5, 1, 3]])  # 0 = padding


def _embedding_model(model_type: str, kind: str, unroll: bool):
    """``(model, recurrent layer)``: Embedding(mask_zero=True) feeding the layer."""
    vocabulary = int(IDS.max()) + 1
    if model_type == "sequential":
        layer = make_layer(kind, return_sequences=True, unroll=unroll)
        embedding = mgl.Embedding(vocabulary, D, mask_zero=True, input_length=T)
        return mgl.Sequential([embedding, layer]), layer
    ids = mgl.Input((T,), dtype="int64")
    embedded = mgl.Embedding(vocabulary, D, mask_zero=True)(ids)
    layer = make_layer(kind, return_sequences=True, return_state=True, unroll=unroll)
    return mgl.Model(ids, layer(embedded)), layer


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("model_type", ["sequential", "functional"])
def test_embedding_mask_zero_in_a_model(model_type, kind):
    (fused, _), (reference, _) = (
        _embedding_model(model_type, kind, unroll) for unroll in (False, True)
    )
    for model in (fused, reference):
        model(IDS)
    randomize_weights(fused)
    reference.set_weights(fused.get_weights())
    got, expected = (TapeRun(m, [IDS], m.trainable_weights) for m in (fused, reference))
    assert_same_run(got, expected)
    assert len(got.grads) == len(fused.trainable_weights)  # the embeddings' gradient included
    np.testing.assert_array_equal(got.outputs[0][1, :2], 0.0)  # left padding: zeros


def _bidirectional(kind: str, unroll: bool):
    """``Bidirectional`` around a layer of ``kind`` that returns its sequence and states."""
    inner = make_layer(kind, return_sequences=True, return_state=True, unroll=unroll)
    return mgl.Bidirectional(inner)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_bidirectional_with_return_state(kind):
    x = normal((B, T, D), 100)
    fused, reference = built_twins(functools.partial(_bidirectional, kind), x)
    states = initial_states(kind, seed=30) + initial_states(kind, seed=40)  # forward, backward
    got = run_layer(fused, x, MIXED_MASK, states)
    expected = run_layer(reference, x, MIXED_MASK, states)
    assert_same_run(got, expected)
    assert len(got.outputs) == 1 + 2 * KINDS[kind][2]


@pytest.mark.parametrize(
    "batch, steps, units", [(7, 6, 13), (64, 3, 40)], ids=["B7_H13", "B64_T3_H40"]
)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_larger_and_odd_shapes(kind, batch, steps, units):
    x = normal((batch, steps, D), 100)
    mask = np.ones((batch, steps), dtype=bool)
    mask[::3, steps - 1 :] = False  # right padding on every third row
    mask[1::5, :1] = False  # left padding on every fifth
    make = functools.partial(KINDS[kind][0], units, return_sequences=True, return_state=True)
    fused, reference = built_twins(make, x)
    states = [normal((batch, units), 200 + i) for i in range(KINDS[kind][2])]
    assert_same_run(run_layer(fused, x, mask, states), run_layer(reference, x, mask, states))


# -------------------------------------------------------------------------------------------------
# which path runs
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_fused_path_is_taken(kind):
    x = normal((B, T, D), 100)
    make = functools.partial(make_layer, kind, return_sequences=True, return_state=True)
    fused, reference = built_twins(make, x)
    op = KINDS[kind][1]
    records = run_layer(fused, x).records
    assert_fused(records, fused, op)
    [sequence_record] = [r for r in records if r.op == op]
    assert sequence_record.scope == fused.name
    assert_per_step(run_layer(reference, x).records, reference)


def _feature_runs(kind: str):
    """``(feature name, layer, records of one fused-path call)`` for every RNN feature the fused
    path keeps."""
    x = normal((B, T, D), 100)
    states = initial_states(kind)
    plain = {"return_sequences": True, "return_state": True}
    cases = [
        ("mask", plain, {"mask": MIXED_MASK}),
        ("initial_state", plain, {"states": states}),
        ("last_output_masked", {}, {"mask": MIXED_MASK, "states": states}),
        ("go_backwards", {**plain, "go_backwards": True}, {"mask": MIXED_MASK}),
        ("zero_output_for_mask", {**plain, "zero_output_for_mask": True}, {"mask": MIXED_MASK}),
        ("truncate_gradient", {**plain, "truncate_gradient": 2}, {"mask": MIXED_MASK}),
        ("use_bias_false", {**plain, "use_bias": False}, {}),
        ("dropout_not_training", {**plain, "dropout": 0.3, "recurrent_dropout": 0.3}, {}),
    ]
    for name, layer_kwargs, call in cases:
        layer = make_layer(kind, **layer_kwargs)
        yield name, layer, run_layer(layer, x, **call).records
    layer = make_layer(kind, **plain, time_major=True)
    yield "time_major", layer, run_layer(layer, np.swapaxes(x, 0, 1), MIXED_MASK).records
    layer = make_layer(kind, **plain, stateful=True)
    layer(x)
    yield "stateful_second_call", layer, run_layer(layer, x).records
    layer.reset_states()
    yield "stateful_after_reset_states", layer, run_layer(layer, x).records
    if kind == "lstm":
        layer = make_layer(kind, **plain, unit_forget_bias=False)
        yield "unit_forget_bias_false", layer, run_layer(layer, x).records
    cell = {"lstm": mgl.LSTMCell, "simple_rnn": mgl.SimpleRNNCell}.get(kind)
    if kind.startswith("gru"):
        cell = functools.partial(mgl.GRUCell, reset_after=kind == "gru")
    layer = mgl.RNN(cell(H), return_sequences=True)
    yield "rnn_of_the_cell", layer, run_layer(layer, x).records


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_fused_path_keeps_every_feature(kind):
    op = KINDS[kind][1]
    for feature, layer, records in _feature_runs(kind):
        assert sequence_ops(records) == [op], feature
        assert step_scopes(records, layer.name) == [], feature


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_fused_path_in_models_and_bidirectional(kind):
    op = KINDS[kind][1]
    for model_type in ("sequential", "functional"):
        model, layer = _embedding_model(model_type, kind, unroll=False)
        assert_fused(TapeRun(model, [IDS], model.trainable_weights).records, layer, op)
    bi = _bidirectional(kind, unroll=False)
    x = normal((B, T, D), 100)
    records = run_layer(bi, x, MIXED_MASK).records
    assert sequence_ops(records) == [op, op]
    for layer in (bi.forward_layer, bi.backward_layer):
        assert step_scopes(records, layer.name) == []


# -------------------------------------------------------------------------------------------------
# fallbacks to the per-step loop
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lstm", "gru_reset_before"])
def test_recording_steps_uses_the_per_step_path(kind):
    x = normal((B, T, D), 100)
    layer = make_layer(kind, return_sequences=True, return_state=True)
    layer(x)
    randomize_weights(layer)
    states = initial_states(kind)
    with recording_steps(layer):
        inspected = run_layer(layer, x, MIXED_MASK, states)
    assert_per_step(inspected.records, layer)
    identities = [
        r for r in inspected.records if r.op == "identity" and r.scope == layer.name + "/t0"
    ]
    assert len(identities) == len(layer.weights)  # one read of each weight at step 0
    assert_same_run(inspected, run_layer(layer, x, MIXED_MASK, states))


def test_trace_bptt_runs_the_per_step_loop_of_an_lstm_with_unroll_false():
    x, cot = normal((B, T, D), 100), normal((B, T, H), 101)
    layer = mgl.LSTM(H, return_sequences=True)
    assert not layer.unroll
    layer(x)
    randomize_weights(layer)
    trace = mgl.inspect.trace_bptt(layer, x, lambda out: mg.sum(out * cot), mask=MIXED_MASK)
    assert trace.steps == T
    assert_per_step(trace.tape.records, layer)
    assert {f"{layer.name}/t{t}/states" for t in range(T)} <= {r.scope for r in trace.tape.records}
    # the same loss and gradients as a plain call, which takes the fused path
    xt = mg.tensor(x)
    with mg.GradientTape() as tape:
        tape.watch(xt)
        loss = mg.sum(layer(xt, mask=MIXED_MASK) * cot)
    dx, *dweights = tape.gradient(loss, [xt, *layer.trainable_weights])
    close(trace.loss, loss.item())
    close(trace.input_grads, dx.numpy())
    for weight, grad in zip(layer.trainable_weights, dweights, strict=True):
        close(trace.param_grads_by_step[weight.name].sum(axis=0), grad.numpy())
    assert_fused(tape.records, layer, "lstm_sequence")


@pytest.mark.parametrize(
    "kind, dropout, recurrent_dropout",
    [
        ("lstm", 0.3, 0.0),
        ("gru", 0.2, 0.0),
        ("gru_reset_before", 0.2, 0.0),
        ("simple_rnn", 0.4, 0.0),
        ("gru", 0.0, 0.3),
        ("simple_rnn", 0.2, 0.2),
    ],
)
def test_dropout_in_training(kind, dropout, recurrent_dropout):
    """Input dropout alone keeps the fused path (one mask per gate, drawn as the per-step loop
    draws it); recurrent dropout needs the per-step loop. Either way the values equal
    ``unroll=True`` under the same seed, and differ from a call without dropout."""
    x = normal((B, T, D), 100)
    make = functools.partial(
        make_layer,
        kind,
        return_sequences=True,
        return_state=True,
        dropout=dropout,
        recurrent_dropout=recurrent_dropout,
    )
    fused, reference = built_twins(make, x)
    runs = []
    for layer in (fused, reference):
        mg.random.seed(7)  # the same dropout masks for both layers
        runs.append(run_layer(layer, x, MIXED_MASK, training=True))
    if recurrent_dropout == 0:
        assert_fused(runs[0].records, fused, KINDS[kind][1])
    else:
        assert_per_step(runs[0].records, fused)
    assert_same_run(*runs)
    no_dropout = run_layer(fused, x, MIXED_MASK, training=False)
    assert not np.allclose(runs[0].outputs[0], no_dropout.outputs[0])


@pytest.mark.parametrize("kind, training", [("lstm", None), ("gru", False)])
def test_dropout_outside_training_uses_the_fused_path(kind, training):
    layer_kwargs = {
        "return_sequences": True,
        "return_state": True,
        "dropout": 0.3,
        "recurrent_dropout": 0.3,
    }
    fused, run = check_twins(kind, layer_kwargs, MIXED_MASK, training=training)
    assert_fused(run.records, fused, KINDS[kind][1])


class LSTMCellSubclass(mgl.LSTMCell):
    """An LSTM cell subclass: it may change ``call``, so it never takes the fused path."""


FALLBACKS = {
    "simple_rnn_relu": lambda **kw: mgl.SimpleRNN(H, activation="relu", **kw),
    "lstm_relu": lambda **kw: mgl.LSTM(H, activation="relu", **kw),
    "lstm_hard_sigmoid": lambda **kw: mgl.LSTM(H, recurrent_activation="hard_sigmoid", **kw),
    "gru_hard_sigmoid": lambda **kw: mgl.GRU(H, recurrent_activation="hard_sigmoid", **kw),
    "list_of_cells": lambda **kw: mgl.RNN([mgl.LSTMCell(H), mgl.GRUCell(H)], **kw),
    "stacked_cells": lambda **kw: mgl.RNN(
        mgl.StackedRNNCells([mgl.SimpleRNNCell(H), mgl.LSTMCell(H)]), **kw
    ),
    "lstm_cell_subclass": lambda **kw: mgl.RNN(LSTMCellSubclass(H), **kw),
}


@pytest.mark.parametrize("name", list(FALLBACKS))
def test_uncovered_configurations_use_the_per_step_path(name):
    x = normal((B, T, D), 100)
    make = functools.partial(FALLBACKS[name], return_sequences=True, return_state=True)
    fused, reference = built_twins(make, x)
    got = run_layer(fused, x, MIXED_MASK)
    assert_per_step(got.records, fused)
    assert_per_step(run_layer(reference, x).records, reference)
    assert_same_run(got, run_layer(reference, x, MIXED_MASK))


# -------------------------------------------------------------------------------------------------
# finite differences through the fused op
# -------------------------------------------------------------------------------------------------

GRADCHECK_CASES = {  # name -> (kind, layer arguments); every case runs with a mask
    "simple_rnn": ("simple_rnn", {"return_sequences": True}),
    "lstm": ("lstm", {"return_sequences": True, "return_state": True}),
    "gru": ("gru", {"return_state": True, "go_backwards": True}),
    "gru_reset_before": (
        "gru_reset_before",
        {"return_sequences": True, "zero_output_for_mask": True},
    ),
    # finite differences see the untruncated function, so this loss reads the first chunk (steps
    # 0 and 1) only: there truncation changes nothing, and a cut inside a chunk would show
    "lstm_truncated": ("lstm", {"return_sequences": True, "truncate_gradient": 2}),
}


@pytest.mark.parametrize("case", list(GRADCHECK_CASES))
def test_gradcheck_through_the_fused_op(case):
    kind, layer_kwargs = GRADCHECK_CASES[case]
    batch, steps, features, units = 2, 5, 3, 3
    x = normal((batch, steps, features), 1)
    mask = _mask(["11101", "01111"])
    states = [normal((batch, units), 2 + i, 0.5) for i in range(KINDS[kind][2])]
    layer = KINDS[kind][0](units, **layer_kwargs)
    layer(x)
    randomize_weights(layer, scale=0.7)
    cell, names = layer.cell, ["kernel", "recurrent_kernel", "bias"]
    weights = [getattr(cell, n) for n in names]
    out_shape = (batch, steps, units) if layer.return_sequences else (batch, units)
    n_outputs = 1 + (len(states) if layer.return_state else 0)
    cotangents = [normal(out_shape, 3)] + [
        normal((batch, units), 4 + i) for i in range(n_outputs - 1)
    ]
    if layer.truncate_gradient is not None:
        cotangents[0][:, layer.truncate_gradient :] = 0.0

    def loss(x, *rest):
        given_states, new_weights = rest[: len(states)], rest[len(states) :]
        for n, w in zip(names, new_weights, strict=True):
            object.__setattr__(cell, n, w)  # the cell's weights are read through attributes
        try:
            outputs = flatten(layer(x, mask=mask, initial_state=list(given_states)))
        finally:
            for n, w in zip(names, weights, strict=True):
                object.__setattr__(cell, n, w)
        return sum(
            (mg.sum(out * c) for out, c in zip(outputs, cotangents, strict=True)), mg.tensor(0.0)
        )

    report = mg.gradcheck(loss, [x, *states, *weights], atol=1e-7, rtol=1e-5)
    assert report.passed, str(report)
    with mg.GradientTape() as tape:
        loss(mg.tensor(x), *[mg.tensor(s) for s in states], *weights)
    assert_fused(tape.records, layer, KINDS[kind][1])


# -------------------------------------------------------------------------------------------------
# float32
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_float32_matches_within_float32_tolerance(kind):
    mg.set_floatx("float32")
    batch, steps, features, units = 8, 20, 6, 16
    x = normal((batch, steps, features), 100).astype(np.float32)
    mask = np.ones((batch, steps), dtype=bool)
    mask[0, 15:] = False
    mask[1, :4] = False
    mask[2, 8] = False
    make = functools.partial(KINDS[kind][0], units, return_sequences=True, return_state=True)
    fused, reference = built_twins(make, x, randomize=False)
    assert fused.cell.kernel.dtype == np.float32
    states = [normal((batch, units), 200 + i).astype(np.float32) for i in range(KINDS[kind][2])]
    got, expected = (run_layer(layer, x, mask, states) for layer in (fused, reference))
    assert all(o.dtype == np.float32 for o in got.outputs + got.grads)
    n_inputs = 1 + len(states)  # the gradients of x and the initial states come first
    assert len(got.outputs) == len(expected.outputs) and len(got.grads) == len(expected.grads)
    # outputs, states and input gradients element by element
    for a, b in zip(
        got.outputs + got.grads[:n_inputs],
        expected.outputs + expected.grads[:n_inputs],
        strict=True,
    ):
        close(a, b, rtol=1e-5, atol=1e-6)
    # a weight gradient adds B * T float32 terms in an order that the two paths need not share:
    # the absolute tolerance is taken relative to the gradient's largest entry
    for a, b in zip(got.grads[n_inputs:], expected.grads[n_inputs:], strict=True):
        close(a, b, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(b).max()))
