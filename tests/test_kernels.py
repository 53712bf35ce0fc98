"""The kernels (minigrad.kernels, binary_kernels, matmul_kernels) against their plain-numpy
references.

Tests marked ``kernels`` use small shapes and also pass with ``NUMBA_DISABLE_JIT=1`` (the kernels
then run as plain Python, which is how to step through one in a debugger):

    NUMBA_DISABLE_JIT=1 python -m pytest tests/test_kernels.py -m kernels

The unmarked tests need compiled code: dense accuracy grids and products large enough to take the
multi-threaded matmul path.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad import binary_kernels, kernels, matmul_kernels

FLOATS = [np.float32, np.float64]
RTOL = {np.float32: 1e-5, np.float64: 1e-12}
UNARY = ["tanh", "sigmoid", "relu", "exp", "log", "sqrt", "abs"]
BACKWARD = ["tanh", "sigmoid", "relu", "log", "sqrt", "abs"]
BINARY = ["add", "subtract", "multiply", "divide"]

shapes = st.lists(st.integers(0, 6), min_size=0, max_size=3).map(tuple)  # 0-size included
dims = st.integers(1, 13)  # odd sizes and sizes that are not multiples of the tiles (4, 8)


def random(shape, dtype, seed=0, low=-3.0, high=3.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def assert_close(actual, expected, rtol, atol=0.0):
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def assert_matmul_close(out, a, b, dtype):
    """|out - a @ b| within rtol * (|a| @ |b|): the bound that rounding allows."""
    expected = matmul_kernels.matmul_reference(a, b)
    assert out.dtype == dtype and out.shape == expected.shape
    bound = RTOL[dtype] * (np.abs(a).astype(np.float64) @ np.abs(b)) + 1e-30
    assert np.all(np.abs(out - expected.astype(np.float64)) <= bound)


# ---------------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------------


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
@given(m=dims, k=dims, n=dims, seed=st.integers(0, 100))
def test_matmul_matches_reference(dtype, m, k, n, seed):
    a, b = random((m, k), dtype, seed), random((k, n), dtype, seed + 1)
    assert_matmul_close(matmul_kernels.matmul(a, b), a, b, dtype)


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(0, 3, 4), (3, 0, 4), (3, 4, 0), (1, 1, 1), (1, 7, 1)])
def test_matmul_empty_and_unit_dims(dtype, shape):
    m, k, n = shape
    a, b = random((m, k), dtype), random((k, n), dtype, 1)
    assert_matmul_close(matmul_kernels.matmul(a, b), a, b, dtype)


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_transposed_and_strided_views(dtype):
    a, b = random((9, 6), dtype), random((6, 11), dtype, 1)
    at = np.ascontiguousarray(a.T).T  # F-ordered: read in place as a transpose
    bt = np.ascontiguousarray(b.T).T
    big = random((20, 30), dtype, 2)
    views = [(at, b), (a, bt), (at, bt), (big[::2, 1:13:2], big[:6, ::3][:, :5])]
    for x, y in views:
        assert not (x.flags.c_contiguous and y.flags.c_contiguous)
        assert_matmul_close(matmul_kernels.matmul(x, y), x, y, dtype)


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
def test_matmul_batched(dtype):
    a, b = random((3, 5, 7), dtype), random((3, 7, 6), dtype, 1)
    assert_matmul_close(matmul_kernels.matmul(a, b), a, b, dtype)
    a_t = np.swapaxes(np.ascontiguousarray(np.swapaxes(a, 1, 2)), 1, 2)  # transposed view
    b_strided = np.ascontiguousarray(b[:, :, ::-1])[:, :, ::-1]
    assert_matmul_close(matmul_kernels.matmul(a_t, b_strided), a, b, dtype)


@pytest.mark.kernels
def test_matmul_errors():
    a32, a64 = np.ones((2, 3), np.float32), np.ones((3, 2), np.float64)
    with pytest.raises(TypeError, match="float32 and float64"):
        matmul_kernels.matmul(a32, a64)
    with pytest.raises(TypeError, match="int64"):
        matmul_kernels.matmul(np.ones((2, 2), np.int64), np.ones((2, 2), np.int64))
    with pytest.raises(ValueError, match="not aligned"):
        matmul_kernels.matmul(a32, a32)
    with pytest.raises(ValueError, match="2-D or two 3-D"):
        matmul_kernels.matmul(np.ones(3, np.float32), np.ones(3, np.float32))


@pytest.mark.parametrize(
    "dtype, a_shape, b_shape",
    [
        (np.float32, (64, 300), (300, 129)),  # above the threshold: several threads
        (np.float32, (130, 70), (70, 600)),  # wider than one column panel
        (np.float32, (4, 67, 33), (4, 33, 300)),  # batched
        (np.float64, (20, 300), (300, 129)),  # k-blocks of float64, one thread
        (np.float64, (6, 70), (70, 600)),  # column panels of float64, one thread
    ],
)
def test_matmul_large(dtype, a_shape, b_shape):
    a, b = random(a_shape, dtype), random(b_shape, dtype, 1)
    assert_matmul_close(matmul_kernels.matmul(a, b), a, b, dtype)
    at = np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    bt = np.swapaxes(np.ascontiguousarray(np.swapaxes(b, -1, -2)), -1, -2)
    assert_matmul_close(matmul_kernels.matmul(at, bt), a, b, dtype)


# ---------------------------------------------------------------------------------------------
# unary forward and backward
# ---------------------------------------------------------------------------------------------


def unary_input(name, shape, dtype, seed):
    x = random(shape, dtype, seed)
    return np.abs(x) + dtype(0.1) if name in ("log", "sqrt") else x


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", UNARY)
@given(shape=shapes, seed=st.integers(0, 100))
def test_unary_matches_reference(name, dtype, shape, seed):
    x = unary_input(name, shape, dtype, seed)
    # float32: the tanh/sigmoid approximations are within 4e-7, libm within a few ulp
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert_close(getattr(kernels, name)(x), getattr(kernels, f"{name}_reference")(x), rtol)


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", BACKWARD)
@given(shape=shapes, seed=st.integers(0, 100))
def test_unary_backward_matches_reference(name, dtype, shape, seed):
    v = unary_input(name, shape, dtype, seed)
    g = random(shape, dtype, seed + 1)
    out = getattr(kernels, f"{name}_backward")(v, g)
    assert_close(out, getattr(kernels, f"{name}_backward_reference")(v, g), RTOL[dtype])


@pytest.mark.kernels
@pytest.mark.parametrize("name", UNARY)
def test_unary_non_contiguous_input(name):
    x = unary_input(name, (6, 8), np.float32, 3)[::2, 1::3]
    assert_close(getattr(kernels, name)(x), getattr(kernels, f"{name}_reference")(x), 1e-6)


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
def test_tanh_sigmoid_special_values(dtype):
    x = np.array([-np.inf, -1000.0, -9.0, -0.0, 0.0, 9.0, 1000.0, np.inf, np.nan], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings
        t, s = kernels.tanh(x), kernels.sigmoid(x)
    assert t.dtype == s.dtype == dtype
    np.testing.assert_array_equal(t[[0, 1, 6, 7]], [-1, -1, 1, 1])  # exact limits
    np.testing.assert_array_equal(s[[0, 1, 6, 7]], [0, 0, 1, 1])
    assert np.signbit(t[3]) and t[4] == 0 and s[3] == s[4] == 0.5
    assert np.isnan(t[-1]) and np.isnan(s[-1])
    assert np.all(np.isfinite(t[:-1])) and np.all(np.isfinite(s[:-1]))


@pytest.mark.kernels
def test_nan_and_inf_propagate():
    x = np.array([np.nan, np.inf, -np.inf], np.float32)
    for name in ("relu", "exp", "sqrt", "abs", "log"):
        with np.errstate(all="ignore"):
            expected = getattr(kernels, f"{name}_reference")(x)
        np.testing.assert_array_equal(getattr(kernels, name)(x), expected)


@pytest.mark.kernels
def test_unary_errors():
    with pytest.raises(TypeError, match="int64"):
        kernels.tanh(np.arange(3))
    with pytest.raises(TypeError, match="one dtype"):
        kernels.tanh_backward(np.ones(3, np.float32), np.ones(3))
    with pytest.raises(ValueError, match="equal shapes"):
        kernels.relu_backward(np.ones(3), np.ones(4))


def dense_grid():
    """float32 points: a fine uniform grid over [-120, 120] plus tiny magnitudes."""
    tiny = np.geomspace(1e-37, 1.0, 200_001)
    grid = np.concatenate([np.linspace(-12, 12, 2_400_001), np.linspace(-120, 120, 240_001)])
    return np.concatenate([grid, tiny, -tiny]).astype(np.float32)


@pytest.mark.parametrize(
    "name, exact", [("tanh", np.tanh), ("sigmoid", lambda x: 1 / (1 + np.exp(-x)))]
)
def test_float32_approximation_accuracy(name, exact):
    x = dense_grid()
    y = getattr(kernels, name)(x).astype(np.float64)
    with np.errstate(over="ignore"):
        expected = exact(x.astype(np.float64))
    normal = np.abs(expected) >= np.finfo(np.float32).tiny  # relative error of normal results
    rel = np.abs(y[normal] - expected[normal]) / np.abs(expected[normal])
    assert rel.max() <= 1e-6
    assert np.abs(y - expected).max() <= 1e-6  # also absolute, tiny results included
    small = np.abs(x) < 1e-3  # near 0, tanh(x) ~ x and sigmoid(x) ~ 1/2 + x/4
    tolerance = 1e-9 if name == "tanh" else 1e-7  # ~ an ulp of the result
    assert np.abs(y[small] - expected[small]).max() <= tolerance


# ---------------------------------------------------------------------------------------------
# binary
# ---------------------------------------------------------------------------------------------

PAIRS = [
    ((3, 4), (3, 4)),  # equal shapes
    ((5, 7), (7,)),  # row broadcast: bias add
    ((7,), (5, 7)),  # either order
    ((2, 3, 4), (3, 4)),
    ((2, 3, 4), (1, 4)),  # leading 1s are dropped: still a row broadcast
    ((4, 5), ()),  # a scalar
    ((3, 1), (1, 4)),  # other broadcasts: numpy
    ((2, 1, 4), (3, 1)),
    ((0, 4), (4,)),
    ((), ()),
]


def binary_operands(a_shape, b_shape, dtype, seed):
    a, b = random(a_shape, dtype, seed), random(b_shape, dtype, seed + 1)
    return a, np.where(np.abs(b) < 0.1, 1, b).astype(dtype)  # no division blow-ups


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("a_shape, b_shape", PAIRS)
def test_binary_matches_reference(name, dtype, a_shape, b_shape):
    a, b = binary_operands(a_shape, b_shape, dtype, 0)
    out = getattr(binary_kernels, name)(a, b)
    assert_close(out, getattr(binary_kernels, f"{name}_reference")(a, b), RTOL[dtype])


@pytest.mark.kernels
@pytest.mark.parametrize("name", BINARY)
@given(big=st.lists(st.integers(1, 5), min_size=1, max_size=3), cut=st.integers(0, 3))
def test_binary_suffix_shapes(name, big, cut):
    small = tuple(big[min(cut, len(big)) :])
    a, b = binary_operands(tuple(big), small, np.float32, cut)
    for x, y in ((a, b), (b, a)):
        expected = getattr(binary_kernels, f"{name}_reference")(x, y)
        assert_close(getattr(binary_kernels, name)(x, y), expected, 1e-6)


@pytest.mark.kernels
def test_binary_views_ints_and_errors():
    a = random((6, 8), np.float64)
    assert_close(binary_kernels.multiply(a.T, a.T), a.T * a.T, 1e-15)
    assert_close(binary_kernels.add(a[::2], a[1, ::-1]), a[::2] + a[1, ::-1], 1e-15)
    ints = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(binary_kernels.add(ints, ints), ints + ints)
    with pytest.raises(TypeError, match="one dtype"):
        binary_kernels.add(np.ones(3, np.float32), np.ones(3, np.float64))
    with pytest.raises(ValueError):
        binary_kernels.add(np.ones((2, 3)), np.ones((4,)))


@pytest.mark.kernels
def test_divide_ieee():
    a = np.array([1.0, -1.0, 0.0], np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = binary_kernels.divide(a, np.zeros(3, np.float32))
    np.testing.assert_array_equal(out, [np.inf, -np.inf, np.nan])


# ---------------------------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------------------------


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
@given(shape=st.lists(st.integers(0, 5), min_size=1, max_size=4).map(tuple), data=st.data())
def test_sum_leading_matches_reference(dtype, shape, data):
    n = data.draw(st.integers(0, len(shape)))
    x = random(shape, dtype)
    assert_close(kernels.sum_leading(x, n), kernels.sum_leading_reference(x, n), RTOL[dtype], 1e-12)
    if len(shape) >= 2:
        xt = np.swapaxes(x, 0, 1)  # non-contiguous
        assert_close(
            kernels.sum_leading(xt, n), kernels.sum_leading_reference(xt, n), RTOL[dtype], 1e-12
        )


@pytest.mark.kernels
@pytest.mark.parametrize("dtype", FLOATS)
@given(shape=st.lists(st.integers(0, 6), min_size=0, max_size=3).map(tuple))
def test_sum_all_matches_reference(dtype, shape):
    x = random(shape, dtype)
    out = kernels.sum_all(x)
    assert out.shape == () and out.dtype == dtype
    assert_close(out, kernels.sum_all_reference(x), RTOL[dtype], 1e-12)


def test_float32_sums_accumulate_in_float64():
    x = np.full(1_000_000, 0.1, np.float32)
    exact = 1_000_000 * float(np.float32(0.1))
    assert abs(float(kernels.sum_all(x)) - exact) <= exact * 1e-7
    assert abs(float(kernels.sum_leading(x.reshape(1000, 1000), 1)[0]) - exact / 1000) <= 1e-4


@pytest.mark.kernels
def test_float32_stays_float32():
    x = random((3, 4), np.float32)
    y = np.abs(x) + np.float32(0.5)
    outs = [getattr(kernels, name)(y) for name in UNARY]
    outs += [getattr(kernels, f"{name}_backward")(y, x) for name in BACKWARD]
    outs += [getattr(binary_kernels, name)(x, y[0]) for name in BINARY]
    outs += [matmul_kernels.matmul(x, x.T), kernels.sum_leading(x, 1), kernels.sum_all(x)]
    assert all(out.dtype == np.float32 for out in outs)
