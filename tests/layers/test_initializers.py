"""Initializers: Keras names and classes, Keras formulas (bounds, variances, fans), the Keras
orthogonal algorithm, and seeding."""

import numpy as np
import pytest

import minigrad as mg
from minigrad_layers import initializers

BIG = (400, 300)  # large enough for tight statistics, small enough to be fast


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("zeros", initializers.Zeros),
        ("ones", initializers.Ones),
        ("constant", initializers.Constant),
        ("uniform", initializers.RandomUniform),
        ("normal", initializers.RandomNormal),
        ("glorot_uniform", initializers.GlorotUniform),
        ("glorot_normal", initializers.GlorotNormal),
        ("he_uniform", initializers.HeUniform),
        ("he_normal", initializers.HeNormal),
        ("orthogonal", initializers.Orthogonal),
    ],
)
def test_names_and_class_names_resolve(name, cls):
    assert type(initializers.get(name)) is cls
    assert type(initializers.get(cls.__name__)) is cls
    assert type(initializers.get(cls)) is cls


def test_get_accepts_instances_callables_and_none():
    init = initializers.Constant(3.0)
    assert initializers.get(init) is init

    def custom(shape, dtype=None):
        return np.full(shape, 7.0, dtype=dtype)

    assert initializers.get(custom) is custom
    assert initializers.get(None) is None


def test_unknown_names_raise_value_error_listing_the_allowed_ones():
    with pytest.raises(ValueError, match="glorot_unifrom") as info:
        initializers.get("glorot_unifrom")
    assert "glorot_uniform" in str(info.value) and "orthogonal" in str(info.value)
    with pytest.raises(ValueError, match="interpret"):
        initializers.get(42)


def test_constant_zeros_ones_and_dtypes():
    np.testing.assert_array_equal(initializers.Constant(0.5)((2, 2)), np.full((2, 2), 0.5))
    assert initializers.get("zeros")((3,)).dtype == np.float32
    assert initializers.get("ones")((3,), dtype="float64").dtype == np.float64
    mg.set_floatx("float64")
    assert initializers.get("glorot_uniform")((2, 2)).dtype == np.float64


def test_random_uniform_and_normal_defaults():
    u = initializers.RandomUniform()(BIG, dtype="float64")
    assert u.min() >= -0.05 and u.max() <= 0.05 and abs(u.mean()) < 1e-3
    n = initializers.RandomNormal()(BIG, dtype="float64")
    assert abs(n.std() - 0.05) < 1e-3 and abs(n.mean()) < 1e-3
    custom = initializers.RandomUniform(minval=2.0, maxval=3.0)((100,))
    assert custom.min() >= 2.0 and custom.max() <= 3.0


def test_fans_follow_keras():
    assert initializers.compute_fans(()) == (1.0, 1.0)
    assert initializers.compute_fans((7,)) == (7.0, 7.0)
    assert initializers.compute_fans((3, 5)) == (3.0, 5.0)
    assert initializers.compute_fans((3, 3, 4, 8)) == (36.0, 72.0)  # receptive field 9


@pytest.mark.parametrize(
    ("name", "variance", "limit"),
    [
        ("glorot_uniform", 2 / (400 + 300), np.sqrt(6 / (400 + 300))),
        ("he_uniform", 2 / 400, np.sqrt(6 / 400)),
        ("glorot_normal", 2 / (400 + 300), None),
        ("he_normal", 2 / 400, None),
    ],
)
def test_variance_scaling_bounds_and_variance(name, variance, limit):
    w = initializers.get(name)(BIG, dtype="float64")
    assert abs(w.mean()) < 3e-3
    assert w.var() == pytest.approx(variance, rel=0.03)
    if limit is not None:  # uniform on [-limit, limit]
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    else:  # truncated at two standard deviations of the underlying normal
        stddev = np.sqrt(variance) / 0.87962566103423978
        assert np.abs(w).max() <= 2 * stddev


def test_variance_scaling_for_convolution_shapes_uses_the_receptive_field():
    w = initializers.GlorotUniform()((3, 3, 16, 32), dtype="float64")
    assert np.abs(w).max() <= np.sqrt(6 / (16 * 9 + 32 * 9))


def test_variance_scaling_validates_its_arguments():
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sideways")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="cauchy")


@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (3, 12), (2, 3, 4)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    q = initializers.Orthogonal()(shape, dtype="float64")
    assert q.shape == shape
    m = q.reshape(-1, shape[-1])  # (rows, cols)
    if m.shape[0] >= m.shape[1]:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)
    else:  # e.g. a recurrent kernel (u, 4u): orthonormal rows
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-12)


def test_orthogonal_follows_the_keras_algorithm_and_gain():
    rows, cols = 3, 12
    q = initializers.Orthogonal(gain=2.0, seed=7)((rows, cols), dtype="float64")
    a = np.random.default_rng(7).normal(size=(cols, rows))  # (max, min)
    ref, r = np.linalg.qr(a)
    ref = (ref * np.sign(np.diag(r))).T  # signs from diag(R); transposed since rows < cols
    np.testing.assert_allclose(q, 2.0 * ref, atol=1e-12)
    with pytest.raises(ValueError, match="at least 2"):
        initializers.Orthogonal()((4,))


@pytest.mark.parametrize("name", ["uniform", "normal", "glorot_uniform", "he_normal", "orthogonal"])
def test_seeding_the_shared_generator_makes_draws_repeatable(name):
    mg.random.seed(3)
    a = initializers.get(name)((6, 4))
    mg.random.seed(3)
    b = initializers.get(name)((6, 4))
    mg.random.seed(4)
    c = initializers.get(name)((6, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_an_initializer_is_seeded_when_created_and_draws_afresh_at_each_call():
    mg.random.seed(0)
    init = initializers.GlorotUniform()
    mg.random.seed(0)
    twin = initializers.GlorotUniform()
    mg.random.seed(99)  # seeding after creation does not change what they draw
    first, second = init((4, 4)), init((4, 4))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, twin((4, 4)))


def test_an_explicit_seed_is_repeatable_whatever_the_shared_generator():
    mg.random.seed(1)
    a = initializers.RandomNormal(seed=5)((3, 3))
    mg.random.seed(2)
    b = initializers.RandomNormal(seed=5)((3, 3))
    np.testing.assert_array_equal(a, b)
