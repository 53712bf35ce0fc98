"""The Layer base class: lifecycle, names, weights and their names, tracking, trainable, masks,
dtype autocast, the call-signature rules, and a Keras-style custom layer end to end."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.engine import layer as layer_module
from minigrad_layers.engine.naming import to_snake_case


@pytest.fixture(autouse=True)
def _fresh_names():
    mgl.clear_session()


class Scale(mgl.Layer):
    """Written as Keras users write layers: attributes before super().__init__(), built by hand."""

    def __init__(self, factor=2.0, **kwargs):
        self.factor = factor
        self.state_size = (3, 4)  # containers before __init__ are fine too
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1],), initializer="ones", name="w", trainable=True
        )
        self.built = True

    def call(self, inputs):
        return inputs * self.w * self.factor


# -- construction and names -----------------------------------------------------------------------


def test_unknown_keyword_arguments_raise_type_error_naming_them():
    with pytest.raises(TypeError, match="unitz"):
        mgl.Dense(3, unitz=4)
    with pytest.raises(TypeError, match="colour"):
        mgl.Layer(colour="red")


def test_default_names_are_unique_snake_case_and_reset_by_clear_session():
    assert [mgl.Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert Scale().name == "scale"
    assert mgl.Dense(1, name="head").name == "head"
    mgl.clear_session()
    assert mgl.Dense(1).name == "dense"


def test_snake_case_matches_keras():
    cases = {
        "LSTMCell": "lstm_cell",
        "SimpleRNN": "simple_rnn",
        "GRU": "gru",
        "SimpleRNNCell": "simple_rnn_cell",
        "StackedRNNCells": "stacked_rnn_cells",
        "Dense": "dense",
        "MyFancyLayer": "my_fancy_layer",
    }
    assert {k: to_snake_case(k) for k in cases} == cases


def test_bad_names_are_rejected():
    with pytest.raises(ValueError, match="'/'"):
        mgl.Dense(1, name="a/b")


def test_dtype_is_a_string_defaulting_to_floatx_at_construction():
    assert mgl.Dense(1).dtype == "float32"
    mg.set_floatx("float64")
    assert mgl.Dense(1).dtype == "float64"
    assert mgl.Dense(1, dtype=np.float32).dtype == "float32"


# -- lifecycle ------------------------------------------------------------------------------------


class ShapeRecorder(mgl.Layer):
    def build(self, input_shape):
        self.seen_shape = input_shape

    def call(self, inputs):
        return inputs


def test_built_lazily_on_first_call_with_the_concrete_shape():
    layer = ShapeRecorder()
    assert not layer.built
    layer(np.zeros((2, 3)))
    assert layer.built and layer.seen_shape == (2, 3)
    assert isinstance(layer.seen_shape, tuple)


def test_build_receives_a_list_of_shapes_for_a_list_of_inputs():
    layer = ShapeRecorder()
    layer([np.zeros((2, 3)), np.zeros((2, 5))])
    assert layer.seen_shape == [(2, 3), (2, 5)]


def test_build_receives_none_for_unknown_sizes_on_symbolic_inputs():
    layer = ShapeRecorder()
    layer(mgl.Input((None, 4)))
    assert layer.seen_shape == (None, None, 4)


def test_add_weight_returns_a_named_variable():
    layer = mgl.Layer(name="holder")
    w = layer.add_weight("w", shape=(2, 3))
    b = layer.add_weight("b", shape=(3,), initializer="zeros", trainable=False, dtype="float64")
    assert isinstance(w, mg.Variable) and w.name == "holder/w" and w.shape == (2, 3)
    assert w.dtype == np.float32 and w.trainable
    limit = np.sqrt(6 / 5)  # glorot_uniform is the default initializer
    assert np.all(np.abs(w.numpy()) <= limit)
    assert b.dtype == np.float64 and not b.trainable and np.all(b.numpy() == 0)
    assert layer.trainable_weights == [w] and layer.non_trainable_weights == [b]
    assert layer.weights == [w, b]
    with pytest.raises(ValueError, match="fully known shape"):
        layer.add_weight("bad", shape=(None, 3))


def test_repeated_weight_names_get_a_suffix():
    layer = mgl.Layer(name="rep")
    names = [layer.add_weight("w", shape=(1,)).name for _ in range(3)]
    assert names == ["rep/w", "rep/w_1", "rep/w_2"]


def test_count_params_needs_a_built_layer():
    layer = mgl.Dense(4)
    with pytest.raises(ValueError, match="not built"):
        layer.count_params()
    layer(np.zeros((1, 3)))
    assert layer.count_params() == 3 * 4 + 4


# -- weight names ---------------------------------------------------------------------------------


class Inner(mgl.Layer):
    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", shape=(input_shape[-1], 2))

    def call(self, inputs):
        return mg.dot(inputs, self.kernel)


class BuildsChildInBuild(mgl.Layer):
    """A parent that builds its sub-layer by hand, as the RNN builds its cell."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cell = Inner(name="cell")

    def build(self, input_shape):
        self.cell.build(input_shape)
        self.own = self.add_weight("own", shape=(2,))

    def call(self, inputs):
        return self.cell.call(inputs) + self.own


class CallsChildInCall(mgl.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = mgl.Dense(2)

    def call(self, inputs):
        return self.dense(inputs)


def test_weight_names_carry_the_path_of_the_layers_being_built():
    dense = mgl.Dense(2)
    dense(np.zeros((1, 3)))
    assert [w.name for w in dense.weights] == ["dense/kernel", "dense/bias"]

    parent = BuildsChildInBuild(name="lstm")
    parent(np.zeros((1, 3)))
    assert [w.name for w in parent.weights] == ["lstm/own", "lstm/cell/kernel"]

    outer = CallsChildInCall(name="outer")
    outer(np.zeros((1, 3)))
    assert [w.name for w in outer.weights] == ["outer/dense_1/kernel", "outer/dense_1/bias"]


def test_a_cell_built_directly_is_named_after_itself():
    cell = Inner(name="lstm_cell")
    cell.build((None, 3))
    assert cell.built and cell.kernel.name == "lstm_cell/kernel"


def test_layers_of_a_sequential_are_named_as_top_level_layers():
    model = mgl.Sequential([mgl.Dense(2), mgl.Dense(1)])
    model(np.zeros((1, 3)))
    assert [w.name for w in model.weights] == [
        "dense/kernel",
        "dense/bias",
        "dense_1/kernel",
        "dense_1/bias",
    ]


# -- tracking, weights order, trainable -----------------------------------------------------------


class Container(mgl.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = mgl.Dense(2, name="first")
        self.blocks = [mgl.Dense(2, name="b0"), (mgl.Dense(2, name="b1"),)]
        self.by_key = {"k": mgl.Dense(2, name="keyed")}
        self.later = []

    def build(self, input_shape):
        self.scale = self.add_weight("scale", shape=(), initializer="ones")
        self.count = self.add_weight("count", shape=(), initializer="zeros", trainable=False)

    def call(self, inputs):
        x = self.first(inputs)
        for layer in [self.blocks[0], self.blocks[1][0], self.by_key["k"], *self.later]:
            x = layer(x)
        return x * self.scale


def test_sub_layers_in_attributes_lists_tuples_and_dicts_are_tracked_in_keras_order():
    layer = Container(name="c")
    layer.later.append(mgl.Dense(2, name="appended"))
    layer(np.zeros((1, 2)))
    names = [w.name for w in layer.weights]
    expected_trainable = ["c/scale"] + [
        f"c/{n}/{w}" for n in ("first", "b0", "b1", "keyed", "appended") for w in ("kernel", "bias")
    ]
    assert names == expected_trainable + ["c/count"]
    assert [w.name for w in layer.trainable_weights] == expected_trainable
    assert len(layer.get_weights()) == len(names)


def test_reassigning_an_attribute_untracks_the_old_layer():
    layer = Container()
    layer.first = None
    assert all(sub.name != "first" for sub in layer._sublayers())
    layer.first = mgl.Dense(2, name="replacement")
    assert layer._sublayers()[-1].name == "replacement"  # re-assigned: tracked last, as in Keras


def test_trainable_false_freezes_the_layer_and_its_sub_layers():
    layer = Container()
    x = mg.tensor(np.ones((1, 2)))
    layer(x)
    n = len(layer.weights)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == n
    assert not layer.first.trainable and layer.first.trainable_weights == []
    assert all(not w.trainable for w in layer.weights)
    with mg.GradientTape() as tape:
        loss = mg.sum(layer(x))
    assert all(g is None for g in tape.gradient(loss, layer.weights))
    layer.trainable = True
    assert len(layer.trainable_weights) == n - 1  # "count" was created non-trainable
    assert [w.name for w in layer.non_trainable_weights] == [layer.count.name]


def test_set_weights_checks_count_and_shapes_and_round_trips():
    dense = mgl.Dense(3)
    dense(np.zeros((1, 2)))
    values = [np.arange(6.0).reshape(2, 3), np.array([1.0, 2.0, 3.0])]
    dense.set_weights(values)
    for got, want in zip(dense.get_weights(), values, strict=True):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"'dense/kernel'.*\(2, 3\).*\(3, 2\)"):
        dense.set_weights([np.zeros((3, 2)), np.zeros(3)])
    with pytest.raises(ValueError, match="2 weights"):
        dense.set_weights([np.zeros((2, 3))])
    np.testing.assert_array_equal(dense.get_weights()[0], values[0])  # nothing assigned


# -- super().__init__() forgotten -----------------------------------------------------------------


class NoSuperWeights(mgl.Layer):
    def __init__(self):
        self.units = 2

    def build(self, input_shape):
        self.w = self.add_weight("w", shape=(2,))


class NoSuperSubLayer(mgl.Layer):
    def __init__(self):
        self.dense = mgl.Dense(2)


def test_a_forgotten_super_init_is_reported_clearly():
    layer = NoSuperWeights()
    with pytest.raises(RuntimeError, match=r"NoSuperWeights.*super\(\).__init__"):
        layer(np.zeros((1, 2)))
    with pytest.raises(RuntimeError, match=r"NoSuperWeights.*super\(\).__init__"):
        layer.build((1, 2))
    with pytest.raises(RuntimeError, match=r"NoSuperSubLayer.*super\(\).__init__"):
        NoSuperSubLayer()


# -- call signature: training, mask, kwargs -------------------------------------------------------


class Plain(mgl.Layer):
    def call(self, inputs):
        return inputs


class WithTraining(mgl.Layer):
    def call(self, inputs, training=None):
        self.seen = training
        return inputs


class WithMask(mgl.Layer):
    supports_masking = True

    def call(self, inputs, mask=None):
        self.seen = mask
        return inputs * 1.0


class WithKwargs(mgl.Layer):
    def call(self, inputs, **kwargs):
        self.seen = kwargs
        return inputs


class WithExtra(mgl.Layer):
    def call(self, inputs, initial_state=None, constants=None):
        self.seen = (initial_state, constants)
        return inputs


def test_training_and_mask_are_passed_only_when_call_accepts_them():
    x = mg.tensor(np.ones((2, 3)))
    mask = mg.tensor(np.array([True, False]))
    Plain()(x, training=True, mask=mask)  # neither accepted: no TypeError
    layer = WithTraining()
    layer(x, training=True)
    assert layer.seen is True
    layer(x)
    assert layer.seen is None
    layer = WithMask()
    layer(x, mask=mask)
    assert layer.seen is mask
    layer = WithKwargs()
    layer(x, training=False, mask=mask)
    assert layer.seen == {"training": False, "mask": mask}
    assert layer_module._CALL_SPECS[WithKwargs] == (True, True)  # inspected once, cached


def test_extra_keyword_arguments_are_forwarded_to_call():
    layer = WithExtra()
    layer(np.ones((1, 2)), initial_state="s", constants=["c"])
    assert layer.seen == ("s", ["c"])


class Outer(mgl.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = WithTraining()

    def call(self, inputs, training=None):
        return self.inner(inputs)


def test_training_reaches_inner_layers_through_the_call_context():
    outer = Outer()
    outer(np.ones((1, 2)), training=True)
    assert outer.inner.seen is True
    outer(np.ones((1, 2)))
    assert outer.inner.seen is None


# -- masks ----------------------------------------------------------------------------------------


def test_eager_masks_attach_to_outputs_and_reach_the_next_layer():
    x = mg.tensor(np.ones((2, 3, 4)))
    mask = mg.tensor(np.array([[True, True, False], [True, False, False]]))
    mgl.set_keras_mask(x, mask)
    consumer = WithMask()
    out = consumer(x)
    assert (
        consumer.seen is mask and mgl.get_keras_mask(out) is mask
    )  # supports_masking: passes through
    assert mgl.get_keras_mask(Plain()(out)) is mask  # returns its input object unchanged
    assert mgl.Layer.compute_mask(Plain(), x, mask) is None  # no masking support: no mask
    dense_out = mgl.Dense(2)(out)
    assert mgl.get_keras_mask(dense_out) is mask


class Summing(mgl.Layer):
    """Consumes the mask and does not support masking: its output carries none (Keras 2)."""

    def call(self, inputs, mask=None):
        return mg.sum(inputs, axis=1)


def test_a_layer_without_masking_support_drops_the_mask():
    x = mg.tensor(np.ones((2, 3, 4)))
    mgl.set_keras_mask(x, mg.tensor(np.ones((2, 3), dtype=bool)))
    assert mgl.get_keras_mask(Summing()(x)) is None


# -- dtype and conversion -------------------------------------------------------------------------


def test_float_inputs_are_cast_to_the_layer_dtype_and_ints_stay_ints():
    recorder = WithKwargs()
    assert recorder(np.ones((2, 2), dtype=np.float64)).dtype == np.float32
    assert recorder([[1.0, 2.0]]).dtype == np.float32
    assert recorder(np.array([[1, 2]])).dtype == np.int64
    mixed = recorder([np.ones(2, dtype=np.float64), np.array([1, 2])])
    assert [t.dtype for t in mixed] == [np.float32, np.int64]
    assert WithKwargs(dtype="float64")(np.ones(2, dtype=np.float32)).dtype == np.float64


def test_autocast_keeps_the_gradient_path_and_the_mask():
    x = mg.tensor(np.ones((2, 3), dtype=np.float32))
    mgl.set_keras_mask(x, mg.tensor(np.array([True, False])))
    layer = WithMask(dtype="float64")
    with mg.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
        loss = mg.sum(out)
    assert out.dtype == np.float64 and mgl.get_keras_mask(out) is mgl.get_keras_mask(x)
    assert tape.gradient(loss, x).dtype == np.float32


# -- config ---------------------------------------------------------------------------------------


def test_get_config_round_trips_and_the_base_asks_for_an_override():
    dense = mgl.Dense(3, activation="tanh", use_bias=False, name="d")
    clone = mgl.Dense.from_config(dense.get_config())
    assert (clone.units, clone.use_bias, clone.name) == (3, False, "d")
    assert clone.activation is mgl.activations.tanh
    assert Plain(name="p").get_config() == {"name": "p", "trainable": True, "dtype": "float32"}
    with pytest.raises(NotImplementedError, match="factor"):
        Scale().get_config()


# -- the Keras-style custom layer end to end ------------------------------------------------------


def test_custom_layer_eager():
    layer = Scale(factor=3.0)
    out = layer(np.ones((2, 4)))
    np.testing.assert_array_equal(out.numpy(), np.full((2, 4), 3.0))
    assert [w.name for w in layer.weights] == ["scale/w"]


def test_custom_layer_in_a_functional_model_and_in_sequential():
    x = mgl.Input((4,))
    y = mgl.Dense(1)(Scale()(x))
    model = mgl.Model(x, y)
    data = np.random.default_rng(0).normal(size=(5, 4))
    assert model(data).shape == (5, 1)
    assert len(model.weights) == 3
    seq = mgl.Sequential([Scale(input_shape=(4,)), mgl.Dense(1)])
    assert seq.built and seq(data).shape == (5, 1)
    lazy = mgl.Sequential([Scale(), mgl.Dense(1)])
    assert lazy(data).shape == (5, 1)


def test_custom_layer_trains_with_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    model = mgl.Sequential([Scale(input_shape=(3,)), mgl.Dense(1)])
    model.compile(optimizer=mgl.optimizers.SGD(learning_rate=0.05), loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=10, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
