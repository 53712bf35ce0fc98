"""Input, symbolic calls (shape inference, nesting, symbolic keyword arguments), Model (replay,
several inputs and outputs, masks, training, input checks), Sequential, summary and
reset_states."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.engine.functional import SymbolicTensor

RNG = np.random.default_rng(1)


@pytest.fixture(autouse=True)
def _fresh_names():
    mgl.clear_session()


# -- Input and symbolic calls ---------------------------------------------------------------------


def test_input_shapes_and_dtypes():
    x = mgl.Input((None, 5))
    assert isinstance(x, SymbolicTensor) and x.shape == (None, None, 5) and x.dtype == "float32"
    assert mgl.Input((3,), batch_size=8, dtype="int64").shape == (8, 3)
    assert mgl.Input(batch_shape=(2, 4)).shape == (2, 4)
    assert mgl.Input(4).shape == (None, 4)
    with pytest.raises(ValueError, match="shape"):
        mgl.Input()
    with pytest.raises(ValueError, match="either"):
        mgl.Input((3,), batch_shape=(None, 3))
    with pytest.raises(TypeError, match="no value"):
        np.asarray(x)


class TimeSum(mgl.Layer):
    """No compute_output_shape: its output shape comes from probes."""

    def call(self, inputs):
        return mg.sum(inputs, axis=1) * 2.0


class Pairs(mgl.Layer):
    """Returns a nested structure [a, [b, c]] and has no compute_output_shape."""

    def call(self, inputs):
        return [inputs, [mg.sum(inputs, axis=-1), mg.transpose(inputs, (0, 2, 1))]]


class NestedShapes(mgl.Layer):
    """Declares nested output shapes, so no probe runs."""

    def compute_output_shape(self, input_shape):
        self.asked = input_shape
        return [input_shape, [input_shape[:-1], (input_shape[0], 7)]]

    def call(self, inputs):
        b = inputs.shape[0]
        return [inputs, [mg.sum(inputs, axis=-1), mg.zeros((b, 7))]]


def test_output_shapes_come_from_compute_output_shape_or_probes():
    x = mgl.Input((None, 5))
    assert mgl.Dense(3)(x).shape == (None, None, 3)
    assert TimeSum()(x).shape == (None, 5)
    a, (b, c) = Pairs()(x)
    assert (a.shape, b.shape, c.shape) == ((None, None, 5), (None, None), (None, 5, None))
    layer = NestedShapes()
    a, (b, c) = layer(x)
    assert layer.asked == (None, None, 5)
    assert (a.shape, b.shape, c.shape) == ((None, None, 5), (None, None), (None, 7))
    known = mgl.Input((6, 5), batch_size=4)
    assert TimeSum()(known).shape == (4, 5)


def test_probes_keep_the_output_dtype():
    ids = mgl.Input((None,), dtype="int64")

    class Doubler(mgl.Layer):
        def call(self, inputs):
            return inputs * 2

    assert Doubler()(ids).dtype == "int64"
    assert mgl.Embedding(10, 3)(ids).dtype == "float32"


class WithState(mgl.Layer):
    """Takes a tensor through a keyword argument, as an RNN takes initial_state."""

    def call(self, inputs, initial_state=None, constants=None):
        out = inputs + initial_state
        if constants is not None:
            out = out + constants[0]
        return out


def test_symbolic_tensors_in_keyword_arguments_become_model_inputs():
    x, s, c = mgl.Input((3,)), mgl.Input((3,)), mgl.Input((3,))
    y = WithState()(x, initial_state=s, constants=[c])
    model = mgl.Model([x, s, c], y)
    xs = [RNG.normal(size=(2, 3)) for _ in range(3)]
    np.testing.assert_allclose(model(xs).numpy(), sum(xs), rtol=1e-6)


# -- Model ----------------------------------------------------------------------------------------


def test_model_with_several_inputs_and_nested_outputs_replays_the_graph():
    a, b = mgl.Input((4,), name="a"), mgl.Input((2,), name="b")
    d1, d2, d3 = mgl.Dense(3), mgl.Dense(3), mgl.Dense(1)
    h = mgl.Add()([d1(a), d2(b)])
    merged = mgl.Concatenate()([h, b])
    model = mgl.Model([a, b], [d3(merged), [h, merged]])
    assert [layer.name for layer in model.layers] == [
        "a",
        "b",
        "dense",
        "dense_1",
        "add",
        "concatenate",
        "dense_2",
    ]
    xa, xb = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 2))
    out, (h_out, m_out) = model([xa, xb])
    eager_h = mgl.Add()([d1(xa), d2(xb)])
    np.testing.assert_allclose(h_out.numpy(), eager_h.numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        out.numpy(), d3(np.concatenate([eager_h.numpy(), xb], -1)).numpy(), rtol=1e-5
    )
    assert m_out.shape == (5, 5)
    assert len(model.weights) == 6 and model.output_names == ["dense_2", "add", "concatenate"]
    assert model.get_layer("add") is model.layers[4]


def test_model_gradients_flow_to_every_weight():
    x = mgl.Input((3,))
    model = mgl.Model(x, mgl.Dense(1)(mgl.Dense(4, activation="tanh")(x)))
    with mg.GradientTape() as tape:
        loss = mg.sum(model(RNG.normal(size=(6, 3))) ** 2)
    grads = tape.gradient(loss, model.trainable_weights)
    assert all(
        g is not None and g.shape == w.shape
        for g, w in zip(grads, model.trainable_weights, strict=True)
    )


def test_graph_errors():
    x, other = mgl.Input((3,)), mgl.Input((3,))
    y = mgl.Add()([x, other])
    with pytest.raises(ValueError, match="Graph disconnected"):
        mgl.Model(x, y)
    with pytest.raises(ValueError, match="mgl.Input"):
        mgl.Model(mgl.Dense(2)(x), y)
    dup = mgl.Dense(2, name="same")(mgl.Dense(2, name="same")(x))
    with pytest.raises(ValueError, match="unique"):
        mgl.Model(x, dup)


def test_calling_a_model_on_data_of_the_wrong_rank_lists_both_shapes():
    x = mgl.Input((None, 5))
    model = mgl.Model(x, mgl.Dense(2)(x))
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(None, None, 5\)"):
        model(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"\(4, 3, 6\).*\(None, None, 5\)"):
        model(np.ones((4, 3, 6)))
    with pytest.raises(ValueError, match="expects 1 input"):
        model([np.ones((4, 3, 5)), np.ones((4, 3, 5))])
    assert model(np.ones((4, 9, 5))).shape == (4, 9, 2)


def test_a_model_casts_data_to_its_inputs_dtype():
    x = mgl.Input((3,))
    model = mgl.Model(x, mgl.Dense(2)(x))
    assert model(np.ones((2, 3), dtype=np.int64)).dtype == np.float32
    ids = mgl.Input((None,), dtype="int32")

    class Echo(mgl.Layer):
        def call(self, inputs):
            return inputs

    assert mgl.Model(ids, Echo()(ids))(np.array([[1.0, 2.0]])).dtype == np.int32


def test_masks_propagate_through_a_model():
    ids = mgl.Input((None,), dtype="int64")
    h = mgl.Dense(2)(mgl.Embedding(8, 3, mask_zero=True)(ids))
    model = mgl.Model(ids, h)
    data = np.array([[4, 2, 0, 0], [1, 7, 3, 0]])
    out = model(data)
    np.testing.assert_array_equal(mgl.get_keras_mask(out).numpy(), data != 0)
    float_ids = mgl.Input((None,))  # Keras' default float Input feeding an Embedding
    model = mgl.Model(float_ids, mgl.Embedding(8, 3, mask_zero=True)(float_ids))
    np.testing.assert_array_equal(mgl.get_keras_mask(model(data)).numpy(), data != 0)


def test_training_reaches_the_layers_of_a_model():
    x = mgl.Input((200,))
    model = mgl.Model(x, mgl.Dropout(0.5)(x))
    data = np.ones((2, 200), dtype=np.float32)
    np.testing.assert_array_equal(model(data).numpy(), data)
    assert (model(data, training=True).numpy() == 0).any()
    fixed = mgl.Model(x, mgl.Dropout(0.5)(x, training=False))  # recorded explicitly: kept
    np.testing.assert_array_equal(fixed(data, training=True).numpy(), data)


def test_a_model_is_a_layer_of_another_model():
    x = mgl.Input((3,))
    inner = mgl.Model(x, mgl.Dense(2)(x))
    y = mgl.Input((3,))
    z = inner(y)
    assert z.shape == (None, 2)
    outer = mgl.Model(y, mgl.Dense(1)(z))
    data = RNG.normal(size=(4, 3))
    assert outer(data).shape == (4, 1)
    assert len(outer.weights) == 4
    with pytest.raises(ValueError, match="expects shape"):
        inner(mgl.Input((5,)))


class TwoDense(mgl.Model):
    def __init__(self):
        super().__init__(name="two_dense")
        self.first = mgl.Dense(4)
        self.second = mgl.Dense(1)

    def call(self, inputs):
        return self.second(self.first(inputs))


def test_a_subclassed_model_tracks_its_layers():
    model = TwoDense()
    assert model(RNG.normal(size=(2, 3))).shape == (2, 1)
    assert [w.name for w in model.weights][:2] == ["two_dense/dense/kernel", "two_dense/dense/bias"]
    assert model.layers == [model.first, model.second]
    with pytest.raises(NotImplementedError):
        mgl.Model()(np.ones((1, 2)))


# -- Sequential -----------------------------------------------------------------------------------


def test_sequential_with_an_input_shape_is_built_at_once():
    model = mgl.Sequential([mgl.Dense(4, input_shape=(3,)), mgl.Dense(2)])
    assert model.built and model.inputs[0].shape == (None, 3)
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.outputs[0].shape == (None, 2)
    for first in (
        mgl.Dense(4, batch_input_shape=(8, 3)),
        mgl.Dense(4, input_dim=3, batch_size=8),
    ):
        assert mgl.Sequential([first]).inputs[0].shape == (8, 3)
    with_input = mgl.Sequential([mgl.Input((3,)), mgl.Dense(2)])
    assert with_input.built and len(with_input.layers) == 1


def test_sequential_built_lazily_and_by_add():
    model = mgl.Sequential()
    model.add(mgl.Dense(4, activation="relu"))
    model.add(mgl.Dense(1))
    assert not model.built and model.weights == []
    x = RNG.normal(size=(5, 3))
    out = model(x)
    assert out.shape == (5, 1) and model.built and len(model.weights) == 4
    h = np.maximum(x @ model.weights[0].numpy() + model.weights[1].numpy(), 0)
    np.testing.assert_allclose(
        out.numpy(), h @ model.weights[2].numpy() + model.weights[3].numpy(), rtol=1e-5
    )
    model.add(mgl.Dense(2))
    assert model(x).shape == (5, 2)
    with pytest.raises(TypeError, match="Layer"):
        model.add("dense")


def test_sequential_built_from_data_relaxes_sizes_that_change():
    model = mgl.Sequential([mgl.Dense(2)])
    assert model(np.ones((2, 7, 3))).shape == (2, 7, 2)
    assert model(np.ones((2, 9, 3))).shape == (2, 9, 2)
    assert model.inputs[0].shape == (None, None, 3)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(None, None, 3\)"):
        model(np.ones((2, 3)))


def test_sequential_with_an_embedding_first_takes_sequences_of_any_length():
    model = mgl.Sequential([mgl.Embedding(10, 4, mask_zero=True), mgl.Dense(3)])
    assert model.built and model.inputs[0].shape == (None, None)
    out = model(np.array([[1, 2, 0]]))
    assert out.shape == (1, 3, 3)
    np.testing.assert_array_equal(mgl.get_keras_mask(out).numpy(), [[True, True, False]])


def test_sequential_rejects_layers_with_several_outputs():
    with pytest.raises(ValueError, match="one output"):
        mgl.Sequential([mgl.Input((2, 3)), Pairs()])


# -- summary and reset_states ---------------------------------------------------------------------


def test_summary_lists_layers_shapes_and_parameter_counts(capsys):
    model = mgl.Sequential([mgl.Dense(4, input_shape=(3,)), mgl.Dense(2)])
    model.layers[1].trainable = False
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "sequential"' in text
    assert "dense (Dense)" in text and "(None, 4)" in text and "16" in text
    assert "dense_1 (Dense)" in text and "(None, 2)" in text and "10" in text
    assert "Total params: 26" in text
    assert "Trainable params: 16" in text and "Non-trainable params: 10" in text

    lines = []
    x = mgl.Input((None, 5))
    mgl.Model(x, mgl.Dense(3)(x)).summary(print_fn=lines.append)
    assert "input_2 (InputLayer)" in lines[0] and "(None, None, 5)" in lines[0]
    with pytest.raises(ValueError, match="not been built"):
        mgl.Sequential([mgl.Dense(1)]).summary()


class Counter(mgl.Layer):
    def __init__(self, stateful, **kwargs):
        super().__init__(**kwargs)
        self.stateful = stateful
        self.resets = 0

    def call(self, inputs):
        return inputs

    def reset_states(self):
        self.resets += 1


def test_reset_states_resets_the_stateful_layers():
    stateful, plain = Counter(True), Counter(False)
    model = mgl.Sequential([stateful, plain])
    model(np.ones((2, 3)))
    assert model.stateful
    model.reset_states()
    assert (stateful.resets, plain.resets) == (1, 0)
