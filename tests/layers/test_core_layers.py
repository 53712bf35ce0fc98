"""Dense, Embedding, Dropout, Activation, Masking, Concatenate and Add: values against numpy,
gradients against finite differences, and the masks they make, pass or combine."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


# -- Dense ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (2, 2, 2, 3)])
def test_dense_acts_on_the_last_axis_of_any_rank(shape):
    dense = mgl.Dense(6, activation="tanh")
    x = RNG.normal(size=shape)
    out = dense(x)
    kernel, bias = dense.get_weights()
    assert kernel.shape == (3, 6) and bias.shape == (6,) and np.all(bias == 0)
    np.testing.assert_allclose(out.numpy(), np.tanh(x @ kernel + bias), rtol=1e-12)
    assert dense.compute_output_shape((None,) + shape[1:]) == (None,) + shape[1:-1] + (6,)


def test_dense_without_bias_and_with_initializers():
    dense = mgl.Dense(2, use_bias=False, kernel_initializer="ones")
    out = dense(np.array([[1.0, 2.0, 3.0]]))
    assert len(dense.weights) == 1
    np.testing.assert_array_equal(out.numpy(), [[6.0, 6.0]])


def test_dense_validates_units_and_input():
    with pytest.raises(ValueError, match="units"):
        mgl.Dense(0)
    with pytest.raises(ValueError, match="last dimension"):
        mgl.Dense(2)(mgl.Input((None,)))
    with pytest.raises(ValueError, match="rank >= 2"):
        mgl.Dense(2)(np.ones(3))


def test_dense_gradients_match_finite_differences():
    dense = mgl.Dense(3, activation="sigmoid")
    x = RNG.normal(size=(2, 4, 5))
    dense(x)
    kernel, bias = dense.weights
    w = RNG.normal(size=(2, 4, 3))  # a generic linear functional of the output

    def loss(x, k, b):
        dense.kernel, dense.bias = k, b  # evaluate the layer at gradcheck's copies
        return mg.sum(dense(x) * w)

    mg.gradcheck(loss, [x, kernel, bias])


def test_dense_passes_masks_through():
    x = mg.tensor(RNG.normal(size=(2, 3, 4)))
    mgl.set_keras_mask(x, mg.tensor(np.array([[True, True, False], [True, False, False]])))
    assert mgl.get_keras_mask(mgl.Dense(2)(x)) is mgl.get_keras_mask(x)


# -- Embedding ------------------------------------------------------------------------------------


def test_embedding_looks_up_rows():
    emb = mgl.Embedding(7, 3)
    ids = np.array([[1, 6, 0], [3, 3, 2]])
    out = emb(ids)
    table = emb.get_weights()[0]
    assert out.shape == (2, 3, 3) and out.dtype == np.float64
    np.testing.assert_array_equal(out.numpy(), table[ids])
    assert np.abs(table).max() <= 0.05  # "uniform": RandomUniform(-0.05, 0.05)
    assert emb.weights[0].name == "embedding/embeddings"
    np.testing.assert_array_equal(emb(ids.astype(np.float64)).numpy(), table[ids])  # float ids


def test_embedding_gradient_is_a_scatter_add_over_repeated_ids():
    emb = mgl.Embedding(5, 3)
    ids = np.array([[1, 1, 4], [4, 1, 0]])  # id 1 three times, id 4 twice, ids 2 and 3 never
    emb(ids)
    w = RNG.normal(size=(2, 3, 3))
    table = emb.embeddings

    def loss(e):
        emb.embeddings = e
        return mg.sum(emb(ids) * w)

    report = mg.gradcheck(loss, [table])
    expected = np.zeros((5, 3))
    np.add.at(expected, ids, w)
    np.testing.assert_allclose(report.analytic[0], expected, rtol=1e-12)
    assert np.all(report.analytic[0][[2, 3]] == 0)


def test_embedding_mask_zero_and_range_checks():
    emb = mgl.Embedding(4, 2, mask_zero=True)
    ids = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])
    out = emb(ids)
    np.testing.assert_array_equal(mgl.get_keras_mask(out).numpy(), ids != 0)
    assert mgl.get_keras_mask(mgl.Embedding(4, 2)(ids)) is None
    with pytest.raises(ValueError, match=r"\[0, 4\).*4"):
        emb(np.array([[4]]))
    with pytest.raises(ValueError, match="received ids from -1"):
        emb(np.array([[-1]]))


def test_mask_from_embedding_reaches_a_dense_and_a_mask_consumer():
    class SeenMask(mgl.Layer):
        def call(self, inputs, mask=None):
            self.mask = mask
            return inputs

    ids = np.array([[5, 2, 0], [1, 0, 0]])
    h = mgl.Dense(4)(mgl.Embedding(6, 3, mask_zero=True)(ids))
    consumer = SeenMask()
    consumer(h)
    np.testing.assert_array_equal(mgl.get_keras_mask(h).numpy(), ids != 0)
    np.testing.assert_array_equal(np.asarray(consumer.mask), ids != 0)


# -- Dropout, Activation, Masking -----------------------------------------------------------------


def test_dropout_is_the_identity_unless_training():
    drop = mgl.Dropout(0.4)
    x = mg.tensor(np.ones((50, 40)))
    assert drop(x) is x and drop(x, training=False) is x


def test_dropout_when_training_is_inverted_and_repeatable_with_the_seed():
    drop = mgl.Dropout(0.4)
    x = np.ones((100, 100))
    mg.random.seed(5)
    out = drop(x, training=True).numpy()
    assert set(np.unique(out)) == {0.0, 1 / 0.6}
    assert abs((out == 0).mean() - 0.4) < 0.02
    mg.random.seed(5)
    np.testing.assert_array_equal(drop(x, training=True).numpy(), out)
    seeded = mgl.Dropout(0.4, seed=1)
    assert not np.array_equal(seeded(x, training=True).numpy(), seeded(x, training=True).numpy())


def test_dropout_gradient_is_the_kept_scale():
    drop = mgl.Dropout(0.5)
    x = mg.tensor(RNG.normal(size=(6, 5)))
    with mg.GradientTape() as tape:
        tape.watch(x)
        out = drop(x, training=True)
        loss = mg.sum(out)
    keep = out.numpy() != 0
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), keep * 2.0)


def test_dropout_noise_shape_and_rate_validation():
    out = mgl.Dropout(0.5, noise_shape=(None, 1, 4))(np.ones((8, 3, 4)), training=True).numpy()
    assert np.all(out == out[:, :1, :])  # one mask broadcast over axis 1
    for bad in (-0.1, 1.0, "half"):
        with pytest.raises(ValueError, match="rate"):
            mgl.Dropout(bad)


def test_activation_layer():
    out = mgl.Activation("relu")(np.array([[-1.0, 2.0]]))
    np.testing.assert_array_equal(out.numpy(), [[0.0, 2.0]])
    with pytest.raises(ValueError, match="Unknown activation"):
        mgl.Activation("nope")


def test_masking_zeroes_masked_steps_and_makes_the_mask():
    x = RNG.normal(size=(2, 4, 3))
    x[0, 2] = 0.0
    x[1, 1:] = 0.0
    out = mgl.Masking()(x)
    keep = np.array([[True, True, False, True], [True, False, False, False]])
    np.testing.assert_array_equal(mgl.get_keras_mask(out).numpy(), keep)
    np.testing.assert_array_equal(out.numpy(), x * keep[..., None])
    x[0, 0] = -1.0
    assert not mgl.get_keras_mask(mgl.Masking(mask_value=-1.0)(x)).numpy()[0, 0]


# -- Concatenate and Add --------------------------------------------------------------------------


def test_concatenate_and_add_values():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 4))
    np.testing.assert_array_equal(mgl.Concatenate()([a, b]).numpy(), np.concatenate([a, b], -1))
    np.testing.assert_array_equal(
        mgl.Concatenate(axis=0)([a, a]).numpy(), np.concatenate([a, a], 0)
    )
    np.testing.assert_allclose(mgl.Add()([a, a, a]).numpy(), 3 * a)
    with pytest.raises(ValueError, match="list of inputs"):
        mgl.Add()(a)


def _masked(shape, mask):
    t = mg.tensor(RNG.normal(size=shape))
    mgl.set_keras_mask(t, None if mask is None else mg.tensor(np.array(mask)))
    return t


def test_merge_masks_follow_keras_2():
    m1 = [[True, True, False]]
    m2 = [[True, False, True]]
    a, b, c = _masked((1, 3, 2), m1), _masked((1, 3, 4), m2), _masked((1, 3, 2), None)
    np.testing.assert_array_equal(
        mgl.get_keras_mask(mgl.Concatenate()([a, b])).numpy(), [[1, 0, 0]]
    )
    np.testing.assert_array_equal(mgl.get_keras_mask(mgl.Concatenate()([a, c])).numpy(), m1)
    along_time = mgl.get_keras_mask(mgl.Concatenate(axis=1)([a, c])).numpy()
    np.testing.assert_array_equal(along_time, [[True, True, False, True, True, True]])
    np.testing.assert_array_equal(
        mgl.get_keras_mask(mgl.Add()([a, _masked((1, 3, 2), m2)])).numpy(), [[1, 0, 0]]
    )
    np.testing.assert_array_equal(mgl.get_keras_mask(mgl.Add()([a, c])).numpy(), m1)
    assert mgl.get_keras_mask(mgl.Add()([c, c])) is None


def test_merge_gradients_match_finite_differences():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    w = RNG.normal(size=(2, 6))
    mg.gradcheck(lambda a, b: mg.sum(mgl.Concatenate()([a, b]) * w), [a, b])
    mg.gradcheck(lambda a, b: mg.sum(mgl.Add()([a, b]) * w[:, :3]), [a, b])
