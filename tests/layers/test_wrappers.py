"""TimeDistributed: values against numpy, both ways of running (time folded into the batch, one
call per step), gradients against finite differences, masks in and out, configs, bad inputs."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


class Affine(mgl.Layer):
    """A custom layer (so TimeDistributed calls it once per step) that counts its calls."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.batch_sizes = []

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))

    def call(self, inputs):
        self.batch_sizes.append(inputs.shape[0])
        return mg.tanh(inputs @ self.kernel)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _masked(x, mask):
    t = mg.tensor(x)
    mgl.set_keras_mask(t, mg.tensor(np.asarray(mask)))
    return t


# -- values and the two ways of running -------------------------------------------------------


def test_a_built_in_layer_runs_once_on_the_folded_batch():
    x = RNG.normal(size=(2, 5, 4))
    layer = mgl.TimeDistributed(mgl.Dense(3, activation="tanh"))
    with mg.GradientTape() as tape:
        tape.watch(x := mg.tensor(x))
        out = layer(x)
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out.numpy(), np.tanh(x.numpy() @ kernel + bias), rtol=1e-12)
    assert [r.op for r in tape.records].count("matmul") == 1  # one call for all 10 steps
    assert [w.name for w in layer.weights] == [
        "time_distributed/dense/kernel",
        "time_distributed/dense/bias",
    ]
    assert layer.compute_output_shape((None, 5, 4)) == (None, 5, 3)
    assert mgl.TimeDistributed(mgl.Dense(3))(mgl.Input((None, 4))).shape == (None, None, 3)


def test_a_custom_layer_is_called_once_per_step():
    x = RNG.normal(size=(2, 5, 4))
    inner = Affine(3)
    out = mgl.TimeDistributed(inner)(x)
    assert inner.batch_sizes == [2] * 5
    np.testing.assert_allclose(out.numpy(), np.tanh(x @ inner.kernel.numpy()), rtol=1e-12)


def test_a_recurrent_layer_over_sequences_of_sequences():
    x = RNG.normal(size=(2, 3, 4, 5))  # (batch, outer time, inner time, features)
    layer = mgl.TimeDistributed(mgl.SimpleRNN(3))
    out = layer(x)
    assert out.shape == (2, 3, 3)
    kernel, recurrent, bias = layer.get_weights()
    for t in range(3):
        h = np.zeros((2, 3))
        for s in range(4):
            h = np.tanh(x[:, t, s] @ kernel + h @ recurrent + bias)
        np.testing.assert_allclose(out.numpy()[:, t], h, rtol=1e-10)


def test_a_stateful_layer_is_called_step_by_step_and_keeps_its_states():
    x = RNG.normal(size=(2, 3, 4, 5))
    layer = mgl.TimeDistributed(mgl.SimpleRNN(3, stateful=True))
    out = layer(x)
    single = mgl.SimpleRNN(3, stateful=True)
    single(x[:, 0])
    single.set_weights(layer.get_weights())
    single.reset_states()
    for t in range(3):  # the states carry over from one outer step to the next
        np.testing.assert_allclose(out.numpy()[:, t], single(x[:, t]).numpy(), rtol=1e-12)


def test_training_reaches_the_inner_layer():
    layer = mgl.TimeDistributed(mgl.Dropout(0.5))
    x = np.ones((4, 6, 5))
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert set(np.unique(layer(x, training=True).numpy())) == {0.0, 2.0}


# -- gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: mgl.Dense(2, activation="tanh"), lambda: Affine(2)])
def test_gradients_match_finite_differences(make):
    x = RNG.normal(size=(2, 3, 4))
    layer = mgl.TimeDistributed(make())
    layer(x)
    w = RNG.normal(size=(2, 3, 2))

    def loss(x, kernel):
        layer.layer.kernel = kernel  # evaluate the layer at gradcheck's copy
        return mg.sum(layer(x) * w)

    mg.gradcheck(loss, [x, layer.layer.kernel])


# -- masks ------------------------------------------------------------------------------------


def test_a_mask_passes_through_a_dense_layer():
    mask = np.array([[True, True, False], [True, False, False]])
    out = mgl.TimeDistributed(mgl.Dense(2))(_masked(RNG.normal(size=(2, 3, 4)), mask))
    np.testing.assert_array_equal(mgl.get_keras_mask(out).numpy(), mask)


def test_the_inner_layer_gets_the_mask_slices_and_its_output_mask_is_kept():
    x = RNG.normal(size=(2, 3, 4, 5))
    mask = RNG.random((2, 3, 4)) > 0.3
    mask[..., 0] = True
    layer = mgl.TimeDistributed(mgl.LSTM(3, return_sequences=True))
    out = layer(x, mask=mask)
    single = mgl.LSTM(3, return_sequences=True)
    single(x[:, 0])
    single.set_weights(layer.get_weights())
    for t in range(3):
        want = single(x[:, t], mask=mask[:, t]).numpy()
        np.testing.assert_allclose(out.numpy()[:, t], want, rtol=1e-10)
    np.testing.assert_array_equal(mgl.get_keras_mask(out).numpy(), mask)
    last_only = mgl.TimeDistributed(mgl.LSTM(3))(x, mask=mask)  # makes no mask: reduced input's
    np.testing.assert_array_equal(mgl.get_keras_mask(last_only).numpy(), mask.any(axis=-1))


def test_an_embedding_with_mask_zero_makes_the_mask():
    ids = np.array([[[1, 2, 0], [0, 0, 0]], [[3, 0, 0], [4, 5, 6]]])
    embed = mgl.TimeDistributed(mgl.Embedding(10, 3, mask_zero=True))
    out = embed(ids)
    table = embed.layer.embeddings.numpy()
    np.testing.assert_array_equal(out.numpy(), table[ids])
    np.testing.assert_array_equal(mgl.get_keras_mask(out).numpy(), ids != 0)
    flat = mgl.TimeDistributed(mgl.Flatten())(out)  # no mask of its own: the reduced one
    np.testing.assert_array_equal(mgl.get_keras_mask(flat).numpy(), (ids != 0).any(axis=-1))
    assert mgl.get_keras_mask(mgl.TimeDistributed(mgl.Dense(2))(np.ones((1, 2, 3)))) is None


def test_both_ways_of_running_give_the_same_masks():
    ids = np.array([[[1, 0], [0, 0]], [[2, 3], [0, 4]]])

    class CustomEmbedding(mgl.Embedding):
        pass

    built_in = mgl.TimeDistributed(mgl.Embedding(5, 2, mask_zero=True))
    custom = mgl.TimeDistributed(CustomEmbedding(5, 2, mask_zero=True))
    masks = [mgl.get_keras_mask(layer(ids)).numpy() for layer in (built_in, custom)]
    np.testing.assert_array_equal(masks[0], masks[1])


# -- configs and saving ------------------------------------------------------------------------


def test_config_round_trip_copies_the_inner_layer():
    x = RNG.normal(size=(2, 3, 4))
    layer = mgl.TimeDistributed(mgl.Dense(2, activation="relu", name="proj"), name="td")
    layer(x)
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "layer"}
    inner = config["layer"]
    assert isinstance(inner, mgl.Dense) and not inner.built and inner is not layer.layer
    assert inner.get_config() == layer.layer.get_config()
    clone = mgl.TimeDistributed.from_config(config)
    assert clone.layer is not inner and clone.name == "td"
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())


def test_weights_save_and_load_in_a_model(tmp_path):
    model = mgl.Sequential([mgl.Input((3, 4)), mgl.TimeDistributed(mgl.Dense(2))])
    model.save_weights(tmp_path / "td.weights.h5")
    other = mgl.Sequential([mgl.Input((3, 4)), mgl.TimeDistributed(mgl.Dense(2))])
    other.load_weights(tmp_path / "td.weights.h5")
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_float32_by_default():
    mg.set_floatx("float32")
    out = mgl.TimeDistributed(mgl.Dense(2))(np.ones((1, 2, 3)))
    assert out.dtype == np.float32


# -- bad input ---------------------------------------------------------------------------------


def test_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match="Layer` instance. Received: 3"):
        mgl.TimeDistributed(3)
    layer = mgl.TimeDistributed(mgl.Dense(2), name="td")
    with pytest.raises(ValueError, match="'td'.*at least 3 dimensions.*\\(2, 4\\)"):
        layer(np.ones((2, 4)))
    layer(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="'td'.*expected shape=\\(None, None, 4\\)"):
        layer(np.ones((2, 3, 5)))
    with pytest.raises(ValueError, match="mask.*\\(batch, time\\) = \\(2, 3\\).*\\(2, 4\\)"):
        layer(np.ones((2, 3, 4)), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="'td_state'.*one output.*'lstm'.*3 outputs"):
        mgl.TimeDistributed(mgl.LSTM(2, return_state=True, name="lstm"), name="td_state")(
            np.ones((2, 3, 4, 5))
        )
    with pytest.raises(ValueError, match="at least one time step"):
        mgl.TimeDistributed(mgl.Dense(2))(np.ones((2, 0, 3)))
