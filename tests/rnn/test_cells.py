"""The built-in cells and their layers: arguments, weights, defaults, config, the step against
numpy references, gradients against finite differences, and the size of a recorded step."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad_layers as mgl
from minigrad import recurrent_reference as ref
from minigrad.nest import flatten
from minigrad_layers import initializers
from minigrad_layers.inspect.observer import recording_steps

CELLS = [mgl.SimpleRNNCell, mgl.LSTMCell, mgl.GRUCell]
LAYERS = [mgl.SimpleRNN, mgl.LSTM, mgl.GRU]
GATES = {mgl.SimpleRNNCell: 1, mgl.LSTMCell: 4, mgl.GRUCell: 3}


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


def built(cell, input_dim=3, scale=0.5, seed=0):
    """``cell`` built for ``input_dim`` features, with random weights of size ``scale``."""
    cell.build((None, input_dim))
    rng = np.random.default_rng(seed)
    cell.set_weights([scale * rng.normal(size=w.shape) for w in cell.weights])
    return cell


def arrays(cell):
    return [w.numpy() for w in cell.weights]


# -------------------------------------------------------------------------------------------------
# arguments, weights, defaults
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", CELLS)
def test_weight_layouts(cls):
    cell = cls(4)
    cell.build((None, 3))
    gates = GATES[cls]
    expected = [(3, gates * 4), (4, gates * 4), (gates * 4,)]
    if cls is mgl.GRUCell:
        expected[2] = (2, 12)
    assert [w.shape for w in cell.weights] == expected
    assert [w.shape for w in cell.trainable_weights] == expected
    assert [w.name.split("/")[-1] for w in cell.weights] == ["kernel", "recurrent_kernel", "bias"]


def test_gru_reset_before_has_one_bias_row():
    cell = mgl.GRUCell(4, reset_after=False)
    cell.build((None, 3))
    assert cell.bias.shape == (12,)


@pytest.mark.parametrize("cls", CELLS)
def test_use_bias_false_has_two_weights(cls):
    cell = cls(2, use_bias=False)
    cell.build((None, 3))
    assert len(cell.weights) == 2 and cell.bias is None


@pytest.mark.parametrize("cls", CELLS)
def test_default_initializers(cls):
    mg.random.seed(7)
    u, d, gates = 5, 3, GATES[cls]
    cell = cls(u)
    cell.build((None, d))
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    assert np.abs(kernel).max() <= np.sqrt(6 / (d + gates * u))  # glorot_uniform over (d, g*u)
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(u), atol=1e-12)  # orthonormal rows
    bias = cell.bias.numpy()
    if cls is mgl.LSTMCell:  # unit_forget_bias: the forget block is ones
        np.testing.assert_array_equal(bias, np.r_[np.zeros(u), np.ones(u), np.zeros(2 * u)])
    else:
        np.testing.assert_array_equal(bias, np.zeros_like(bias))


def test_unit_forget_bias_is_exactly_ones_whatever_the_bias_initializer():
    cell = mgl.LSTMCell(3, bias_initializer=initializers.Constant(0.03))
    cell.build((None, 2))
    np.testing.assert_array_equal(cell.bias.numpy(), np.r_[[0.03] * 3, [1.0] * 3, [0.03] * 6])
    cell = mgl.LSTMCell(3, bias_initializer="ones", unit_forget_bias=False)
    cell.build((None, 2))
    np.testing.assert_array_equal(cell.bias.numpy(), np.ones(12))


@pytest.mark.parametrize("cls", CELLS)
def test_keras_defaults(cls):
    cell = cls(3)
    assert cell.activation is mgl.activations.tanh
    assert cell.use_bias and cell.dropout == 0.0 and cell.recurrent_dropout == 0.0
    config = cell.get_config()
    assert config["kernel_initializer"] == "glorot_uniform"
    assert config["recurrent_initializer"] == "orthogonal"
    assert config["bias_initializer"] == "zeros"
    if cls is not mgl.SimpleRNNCell:
        assert cell.recurrent_activation is mgl.activations.sigmoid
    if cls is mgl.LSTMCell:
        assert cell.unit_forget_bias
    if cls is mgl.GRUCell:
        assert cell.reset_after


@pytest.mark.parametrize("cls", CELLS + LAYERS)
@pytest.mark.parametrize("units", [0, -2, 2.5, True, "4", None])
def test_units_must_be_a_positive_int(cls, units):
    with pytest.raises(ValueError, match="units"):
        cls(units)


@pytest.mark.parametrize("cls", CELLS + LAYERS)
def test_unknown_keyword_raises_type_error(cls):
    with pytest.raises(TypeError, match=rf"^{cls.__name__} .*recurent_dropout"):
        cls(3, recurent_dropout=0.1)


@pytest.mark.parametrize("cls", CELLS)
@pytest.mark.parametrize("argument", ["dropout", "recurrent_dropout"])
def test_dropout_rate_must_be_a_fraction(cls, argument):
    with pytest.raises(ValueError, match=argument):
        cls(3, **{argument: 1.5})


@pytest.mark.parametrize("cls", CELLS)
def test_state_and_output_sizes(cls):
    cell = cls(4)
    assert cell.state_size == ([4, 4] if cls is mgl.LSTMCell else 4)
    assert cell.output_size == 4


@pytest.mark.parametrize("cls", CELLS)
def test_get_initial_state(cls):
    cell = cls(4)
    states = cell.get_initial_state(batch_size=2, dtype="float32")
    if cls is mgl.LSTMCell:
        assert isinstance(states, list) and [s.shape for s in states] == [(2, 4), (2, 4)]
        assert all(s.dtype == np.float32 and not s.numpy().any() for s in states)
    else:
        assert isinstance(states, mg.Tensor) and states.shape == (2, 4)
    from_inputs = cell.get_initial_state(inputs=mg.ones((5, 3)))
    assert flatten(from_inputs)[0].shape == (5, 4)
    with pytest.raises(ValueError, match="batch_size"):
        cell.get_initial_state()


@pytest.mark.parametrize(
    "cls, extra",
    [
        (mgl.SimpleRNNCell, {"activation": "relu"}),
        (mgl.LSTMCell, {"recurrent_activation": "hard_sigmoid", "unit_forget_bias": False}),
        (mgl.GRUCell, {"reset_after": False, "dropout": 0.25}),
    ],
)
def test_cell_config_round_trip(cls, extra):
    cell = cls(6, use_bias=False, recurrent_dropout=0.5, bias_initializer="ones", **extra)
    config = cell.get_config()
    for key, value in extra.items():
        assert config[key] == value
    assert config["units"] == 6 and config["use_bias"] is False
    assert config["recurrent_dropout"] == 0.5 and config["bias_initializer"] == "ones"
    copy = cls.from_config(config)
    assert copy.get_config() == config


# -------------------------------------------------------------------------------------------------
# the step against numpy
# -------------------------------------------------------------------------------------------------


def run_cell(cell, x, states):
    """The cell over every step of ``x (B, T, D)``, as a plain loop; returns outputs (B, T, H)
    and the final states (a list)."""
    outputs = []
    for t in range(x.shape[1]):
        y, states = cell.call(x[:, t], states)
        outputs.append(y)
    return mg.stack(outputs, axis=1), states


def test_simple_rnn_step_matches_numpy():
    cell = built(mgl.SimpleRNNCell(4))
    x, h0 = np.random.default_rng(1).normal(size=(2, 6, 3)), np.full((2, 4), 0.3)
    ys, states = run_cell(cell, mg.tensor(x), [mg.tensor(h0)])
    expected, h, _ = ref.simple_rnn_forward(x, h0, *arrays(cell))
    np.testing.assert_allclose(ys.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(states[0].numpy(), h, rtol=1e-12)


def test_lstm_step_matches_numpy():
    cell = built(mgl.LSTMCell(4))
    rng = np.random.default_rng(2)
    x, h0, c0 = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    ys, (h, c) = run_cell(cell, mg.tensor(x), [mg.tensor(h0), mg.tensor(c0)])
    expected, h_ref, c_ref, _ = ref.lstm_forward(x, h0, c0, *arrays(cell))
    np.testing.assert_allclose(ys.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), h_ref, rtol=1e-12)
    np.testing.assert_allclose(c.numpy(), c_ref, rtol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_step_matches_numpy(reset_after):
    cell = built(mgl.GRUCell(4, reset_after=reset_after))
    rng = np.random.default_rng(3)
    x, h0 = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 4))
    ys, states = run_cell(cell, mg.tensor(x), [mg.tensor(h0)])
    expected, h, _ = ref.gru_forward(x, h0, *arrays(cell), reset_after=reset_after)
    np.testing.assert_allclose(ys.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(states[0].numpy(), h, rtol=1e-12)


@given(
    kind=st.sampled_from(["simple_rnn", "lstm", "gru", "gru_reset_before"]),
    batch=st.integers(1, 4),
    steps=st.integers(1, 5),
    features=st.integers(1, 4),
    units=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_layers_match_numpy_for_any_shape(kind, batch, steps, features, units, seed):
    layer = {
        "simple_rnn": lambda: mgl.SimpleRNN(units, return_sequences=True),
        "lstm": lambda: mgl.LSTM(units, return_sequences=True),
        "gru": lambda: mgl.GRU(units, return_sequences=True),
        "gru_reset_before": lambda: mgl.GRU(units, return_sequences=True, reset_after=False),
    }[kind]()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, features))
    out = layer(x).numpy()
    weights = [w.numpy() for w in layer.weights]
    h0 = np.zeros((batch, units))
    if kind == "simple_rnn":
        expected = ref.simple_rnn_forward(x, h0, *weights)[0]
    elif kind == "lstm":
        expected = ref.lstm_forward(x, h0, h0, *weights)[0]
    else:
        expected = ref.gru_forward(x, h0, *weights, reset_after=kind == "gru")[0]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)


def test_a_bare_state_gives_a_bare_state_back():
    cell = built(mgl.GRUCell(2))
    y, h = cell.call(mg.ones((1, 3)), mg.zeros((1, 2)))
    assert isinstance(h, mg.Tensor) and h is y


@pytest.mark.parametrize("cls", CELLS)
def test_float32_stays_float32(cls):
    mg.set_floatx("float32")
    out = mgl.RNN(cls(3), return_state=True)(np.ones((2, 4, 5), dtype="float32"))
    assert all(t.dtype == np.float32 for t in flatten(out))


# -------------------------------------------------------------------------------------------------
# gradients: finite differences through 5 steps
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: mgl.SimpleRNNCell(3),
        lambda: mgl.LSTMCell(3),
        lambda: mgl.GRUCell(3),
        lambda: mgl.GRUCell(3, reset_after=False),
    ],
    ids=["simple_rnn", "lstm", "gru", "gru_reset_before"],
)
def test_gradcheck_through_five_steps(make):
    cell = built(make(), input_dim=2, scale=0.7)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 5, 2))
    h0 = [rng.normal(size=(2, 3)) for _ in flatten(cell.state_size)]
    weights = list(cell.weights)
    names = ["kernel", "recurrent_kernel", "bias"]
    cotangent = rng.normal(size=(2, 5, 3))

    def loss(x, *rest):
        states, new_weights = list(rest[: len(h0)]), rest[len(h0) :]
        for name, w in zip(names, new_weights, strict=True):
            object.__setattr__(cell, name, w)  # read by the cell at call time
        try:
            ys, final = run_cell(cell, x, states)
        finally:
            for name, w in zip(names, weights, strict=True):
                object.__setattr__(cell, name, w)
        return mg.sum(ys * cotangent) + sum(mg.sum(s * s) for s in final)

    report = mg.gradcheck(loss, [x, *h0, *weights], atol=1e-7, rtol=1e-5)
    assert report.passed, str(report)


# -------------------------------------------------------------------------------------------------
# a lean step: the number of ops a step records
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, most, matmuls",
    [
        (lambda: mgl.SimpleRNNCell(4), 5, 2),  # 2 matmul, 2 add, tanh
        # 2 matmul, 2 add; reshape + unstack into gates; 3 sigmoid, 2 tanh; 3 mul, 1 add
        (lambda: mgl.LSTMCell(4), 15, 2),
        # unstack of the bias rows, 2 matmul, 2 bias add, 2x (reshape + unstack),
        # 2x (add + sigmoid), mul + add + tanh for the candidate, 3 for the interpolation
        (lambda: mgl.GRUCell(4), 19, 2),
        # one bias, 1 matmul and 2 kernel slices more, no recurrent bias add
        (lambda: mgl.GRUCell(4, reset_after=False), 20, 3),
    ],
    ids=["simple_rnn", "lstm", "gru", "gru_reset_before"],
)
def test_records_per_step(make, most, matmuls):
    cell = built(make())
    x = mg.tensor(np.ones((2, 3)))
    states = flatten(cell.get_initial_state(batch_size=2, dtype="float64"))
    with mg.GradientTape() as tape:
        tape.watch(x)
        tape.watch(states)
        cell.call(x, states)
    assert len(tape.records) <= most, [r.op for r in tape.records]
    assert sum(r.op == "matmul" for r in tape.records) == matmuls


@pytest.mark.parametrize("cls", CELLS)
def test_weights_are_read_through_attributes_at_every_step(cls):
    """Under per-step weight reads every step reads each weight through its own identity, and the
    per-step gradients add up to the full one."""
    layer = mgl.RNN(cls(3))
    x = mg.tensor(np.random.default_rng(5).normal(size=(2, 4, 2)))
    layer(x)
    with mg.GradientTape() as tape, recording_steps(layer):
        out = layer(x)
        loss = mg.sum(out * out)
    weight_ids = {id(w) for w in layer.weights}
    reads = [r for r in tape.records if r.op == "identity" and id(r.inputs[0]) in weight_ids]
    assert len(reads) == 4 * len(layer.weights)
    grads = tape.gradient(loss, [r.outputs[0] for r in reads] + layer.weights)
    per_step, full = grads[: len(reads)], grads[len(reads) :]
    for w, g in zip(layer.weights, full, strict=True):
        total = sum(gs.numpy() for r, gs in zip(reads, per_step, strict=True) if r.inputs[0] is w)
        np.testing.assert_allclose(total, g.numpy(), rtol=1e-12)


# -------------------------------------------------------------------------------------------------
# the layers
# -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer_cls, cell_cls, name",
    [
        (mgl.SimpleRNN, mgl.SimpleRNNCell, "simple_rnn"),
        (mgl.LSTM, mgl.LSTMCell, "lstm"),
        (mgl.GRU, mgl.GRUCell, "gru"),
    ],
)
def test_layer_equals_rnn_of_its_cell(layer_cls, cell_cls, name):
    x = np.random.default_rng(6).normal(size=(3, 5, 2))
    layer = layer_cls(4, return_sequences=True, return_state=True, go_backwards=True)
    assert isinstance(layer, mgl.RNN) and isinstance(layer.cell, cell_cls)
    out = layer(x)
    assert layer.name == name
    assert [w.name for w in layer.weights] == [
        f"{name}/{name}_cell/{w}" for w in ("kernel", "recurrent_kernel", "bias")
    ]
    twin = mgl.RNN(cell_cls(4), return_sequences=True, return_state=True, go_backwards=True)
    twin(x)
    twin.set_weights(layer.get_weights())
    for a, b in zip(flatten(out), flatten(twin(x)), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_second_layer_gets_a_unique_name():
    mgl.LSTM(2)
    layer = mgl.LSTM(2)
    layer(np.ones((1, 2, 3)))
    assert layer.name == "lstm_1"
    assert layer.weights[0].name == "lstm_1/lstm_cell/kernel"


def test_layers_take_the_cell_and_rnn_arguments():
    layer = mgl.GRU(
        5,
        activation="relu",
        recurrent_activation="hard_sigmoid",
        reset_after=False,
        dropout=0.1,
        recurrent_dropout=0.2,
        return_sequences=True,
        stateful=True,
        time_major=True,
        truncate_gradient=3,
        zero_output_for_mask=True,
        name="encoder",
    )
    assert layer.units == 5 and layer.activation is mgl.activations.relu
    assert layer.recurrent_activation is mgl.activations.hard_sigmoid
    assert not layer.reset_after and layer.dropout == 0.1 and layer.recurrent_dropout == 0.2
    assert layer.return_sequences and layer.stateful and layer.time_major
    assert layer.truncate_gradient == 3 and layer.zero_output_for_mask
    assert layer.name == "encoder" and layer.cell.name == "gru_cell"


@pytest.mark.parametrize("cls", LAYERS)
def test_layer_config_round_trip(cls):
    layer = cls(3, use_bias=False, dropout=0.5, return_state=True, go_backwards=True, name="r")
    config = layer.get_config()
    assert "cell" not in config
    assert config["units"] == 3 and config["use_bias"] is False and config["dropout"] == 0.5
    assert config["return_state"] and config["go_backwards"] and config["name"] == "r"
    copy = cls.from_config(config)
    assert type(copy) is cls and copy.get_config() == config


def test_lstm_layer_in_float32_by_default():
    mg.set_floatx("float32")
    layer = mgl.LSTM(3)
    layer(np.ones((2, 4, 5)))
    assert all(w.dtype == np.float32 for w in layer.weights)


def test_layer_keeps_the_rnn_and_layer_arguments_and_gives_the_rest_to_the_cell():
    layer = mgl.LSTM(3, unit_forget_bias=False, stateful=True, batch_input_shape=(2, 4, 5))
    assert layer.stateful and layer.stateful_batch_size == 2 and not layer.unit_forget_bias
    assert not layer.cell.unit_forget_bias and not hasattr(layer.cell, "stateful")
    assert layer.get_config()["batch_input_shape"] == (2, 4, 5)


@pytest.mark.parametrize("cls", LAYERS)
def test_layer_config_is_the_cell_config_plus_the_rnn_config(cls):
    layer = cls(3, recurrent_dropout=0.25, return_sequences=True, name="seq")
    cell_config = layer.cell.get_config()
    rnn_config = mgl.RNN.get_config(layer)
    config = layer.get_config()
    assert set(config) == (set(cell_config) | set(rnn_config)) - {"cell"}
    assert config["name"] == "seq" and cell_config["name"].endswith("_cell")
    assert all(config[k] == v for k, v in cell_config.items() if k != "name")


# -------------------------------------------------------------------------------------------------
# Keras' implementation argument, and reset_state
# -------------------------------------------------------------------------------------------------

GATED = [mgl.LSTMCell, mgl.GRUCell, mgl.LSTM, mgl.GRU]


@pytest.mark.parametrize("cls", GATED)
def test_implementation_defaults_to_2_and_is_kept_in_the_config(cls):
    assert cls(3).implementation == 2
    obj = cls(3, implementation=1)
    assert obj.implementation == 1 and obj.get_config()["implementation"] == 1
    assert cls.from_config(obj.get_config()).implementation == 1


@pytest.mark.parametrize("cls", GATED)
@pytest.mark.parametrize("value", [3, -1, "2", 1.5, True, None])
def test_implementation_must_be_1_or_2(cls, value):
    with pytest.raises(ValueError, match=r"`implementation`.*1 or 2, got"):
        cls(3, implementation=value)


@pytest.mark.parametrize("cls", GATED)
def test_legacy_implementation_0_means_1_with_a_warning(cls):
    with pytest.warns(UserWarning, match=r"`implementation=0` has been deprecated"):
        layer = cls(3, implementation=0)
    assert layer.implementation == 1 and layer.get_config()["implementation"] == 1


@pytest.mark.parametrize("cls", [mgl.LSTM, mgl.GRU])
@pytest.mark.parametrize("rates", [(0.0, 0.0), (0.3, 0.2)], ids=["no_dropout", "dropout"])
def test_implementation_1_and_2_give_the_same_numbers(cls, rates):
    x = np.random.default_rng(7).normal(size=(3, 4, 2))
    outputs = []
    for implementation in (1, 2):
        layer = cls(4, implementation=implementation, dropout=rates[0], recurrent_dropout=rates[1])
        layer(x)
        layer.set_weights([0.4 * np.ones_like(w) for w in layer.get_weights()])
        mg.random.seed(3)
        outputs.append(layer(x, training=True).numpy())
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_simple_rnn_takes_no_implementation():
    with pytest.raises(TypeError, match="implementation"):
        mgl.SimpleRNN(3, implementation=1)


@pytest.mark.parametrize("cls", LAYERS)
def test_reset_state_is_reset_states(cls):
    layer = cls(2, stateful=True)
    x = np.random.default_rng(8).normal(size=(3, 4, 2))
    first = layer(x).numpy()
    assert not np.array_equal(layer(x).numpy(), first)  # the kept states carry over
    layer.reset_state()
    np.testing.assert_array_equal(layer(x).numpy(), first)
    ones = [np.ones((3, 2)) for _ in flatten(layer.cell.state_size)]
    layer.reset_state(ones)
    assert all(np.array_equal(s.numpy(), np.ones((3, 2))) for s in flatten(layer.states))
    with pytest.raises(AttributeError, match="must be stateful"):
        cls(2).reset_state()
