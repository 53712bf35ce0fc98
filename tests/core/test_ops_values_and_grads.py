"""Every op: forward against numpy and tape gradient against finite differences, in float64."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, axis_args, broadcastable_pair, nonscalar_shapes, shapes

import minigrad as mg

BINARY = {
    "add": (mg.add, np.add),
    "subtract": (mg.subtract, np.subtract),
    "multiply": (mg.multiply, np.multiply),
    "divide": (mg.divide, np.divide),
    "maximum": (mg.maximum, np.maximum),
    "minimum": (mg.minimum, np.minimum),
}


def weighted_sum(y):
    """A scalar loss with a distinct weight per element, so every gradient entry matters."""
    w = np.linspace(0.5, 1.5, num=max(y.size, 1)).reshape(y.shape)
    return mg.sum(y * w)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=broadcastable_pair())
def test_binary_ops(name, pair):
    op, ref = BINARY[name]
    a, b = arrays(pair[0], seed=1), arrays(pair[1], seed=2)
    if name == "divide":
        b = np.where(np.abs(b) < 0.5, 1.0, b)
    if name in ("maximum", "minimum"):
        b = b + 0.1  # keep ties (where the derivative jumps) away from the inputs
    np.testing.assert_allclose(op(mg.tensor(a), mg.tensor(b)).numpy(), ref(a, b), rtol=1e-12)
    mg.gradcheck(lambda x, y: weighted_sum(op(x, y)), [a, b])


@given(pair=broadcastable_pair())
def test_power(pair):
    a = arrays(pair[0], 0.5, 2.0, seed=3)
    b = arrays(pair[1], -1.5, 1.5, seed=4)
    np.testing.assert_allclose(mg.power(a, mg.tensor(b)).numpy(), a**b, rtol=1e-12)
    mg.gradcheck(lambda x, y: weighted_sum(x**y), [a, b])


UNARY = {
    "negative": (mg.negative, np.negative, (-2, 2)),
    "exp": (mg.exp, np.exp, (-2, 2)),
    "log": (mg.log, np.log, (0.2, 3)),
    "sqrt": (mg.sqrt, np.sqrt, (0.2, 3)),
    "tanh": (mg.tanh, np.tanh, (-3, 3)),
    "sigmoid": (mg.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-3, 3)),
    "relu": (mg.relu, lambda x: np.maximum(x, 0), (-2, 2)),
    "abs": (mg.abs, np.abs, (-2, 2)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes)
def test_unary_ops(name, shape):
    op, ref, (low, high) = UNARY[name]
    x = arrays(shape, low, high, seed=5)
    if name in ("relu", "abs"):
        x = np.where(np.abs(x) < 0.05, 0.3, x)  # away from the kink
    np.testing.assert_allclose(op(mg.tensor(x)).numpy(), ref(x), rtol=1e-13, atol=1e-15)
    mg.gradcheck(lambda t: weighted_sum(op(t)), [x])


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3, 4), (4, 2)),
        ((2, 3, 4), (4, 5)),
        ((2, 3, 4), (2, 4, 5)),
        ((1, 3, 4), (2, 4, 2)),
        ((4,), (4, 3)),
        ((2, 4), (4,)),
        ((4,), (4,)),
        ((2, 1, 3, 4), (5, 4, 2)),
    ],
)
def test_matmul(shape_a, shape_b):
    a, b = arrays(shape_a, seed=6), arrays(shape_b, seed=7)
    np.testing.assert_allclose(mg.matmul(a, mg.tensor(b)).numpy(), a @ b, rtol=1e-12)
    mg.gradcheck(lambda x, y: weighted_sum(x @ y), [a, b])


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3, 4), (4, 2)),
        ((2, 3, 4), (4, 5)),
        ((4,), (4, 3)),
        ((3, 4), (4,)),
        ((2, 4), (3, 4, 2)),
        ((), (3,)),
    ],
)
def test_dot_follows_numpy_dot(shape_a, shape_b):
    a, b = arrays(shape_a, seed=8), arrays(shape_b, seed=9)
    np.testing.assert_allclose(mg.dot(mg.tensor(a), b).numpy(), np.dot(a, b), rtol=1e-12)
    mg.gradcheck(lambda x, y: weighted_sum(mg.dot(x, y)), [a, b])


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@given(data=st.data(), shape=nonscalar_shapes, keepdims=st.booleans())
def test_reductions(name, data, shape, keepdims):
    axis = data.draw(axis_args(shape))
    op, ref = getattr(mg, name), getattr(np, name)
    x = arrays(shape, seed=10)
    expected = ref(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(op(x, axis=axis, keepdims=keepdims).numpy(), expected, rtol=1e-12)
    mg.gradcheck(lambda t: weighted_sum(op(t, axis=axis, keepdims=keepdims)), [x])


def test_max_splits_the_gradient_between_ties():
    x = mg.tensor(np.array([1.0, 3.0, 3.0]))
    with mg.GradientTape() as tape:
        tape.watch(x)
        y = mg.max(x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0.0, 0.5, 0.5])


def test_shape_ops():
    x = arrays((2, 3, 4), seed=11)
    cases = [
        (lambda t: mg.reshape(t, (4, -1)), lambda a: a.reshape(4, -1)),
        (lambda t: mg.transpose(t), lambda a: a.T),
        (lambda t: mg.transpose(t, (1, 0, 2)), lambda a: a.transpose(1, 0, 2)),
        (lambda t: t.T, lambda a: a.T),
        (lambda t: mg.expand_dims(t, 1), lambda a: a[:, None]),
        (lambda t: mg.squeeze(mg.expand_dims(t, -1)), lambda a: a),
        (lambda t: t[1, :, ::2], lambda a: a[1, :, ::2]),
        (lambda t: t[..., None, 1], lambda a: a[..., None, 1]),
        (lambda t: t[np.array([1, 0, 1])], lambda a: a[[1, 0, 1]]),
        (lambda t: t[:, np.array([2, 2, 0])], lambda a: a[:, [2, 2, 0]]),
        (lambda t: mg.concat([t, t * 2], axis=1), lambda a: np.concatenate([a, a * 2], 1)),
        (lambda t: mg.stack([t, t + 1], axis=-1), lambda a: np.stack([a, a + 1], -1)),
        (lambda t: mg.split(t, 2, axis=2)[1], lambda a: np.split(a, 2, axis=2)[1]),
        (lambda t: mg.split(t, [1, 2], axis=1)[2], lambda a: np.split(a, [1, 2], axis=1)[2]),
        (lambda t: mg.clip(t, -0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7)),
        (lambda t: mg.where(t > 0, t, t * t), lambda a: np.where(a > 0, a, a * a)),
        (lambda t: mg.softmax(t), lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True)),
        (
            lambda t: mg.log_softmax(t, axis=0),
            lambda a: a - np.log(np.exp(a).sum(0, keepdims=True)),
        ),
        (lambda t: mg.identity(t), lambda a: a),
    ]
    for op, ref in cases:
        np.testing.assert_allclose(op(mg.tensor(x)).numpy(), ref(x), rtol=1e-12)
        mg.gradcheck(lambda t, op=op: weighted_sum(op(t)), [x])


def test_repeated_integer_index_gradient_is_a_scatter_add():
    table = mg.Variable(np.zeros((4, 2)))
    with mg.GradientTape() as tape:
        rows = table[mg.tensor(np.array([[1, 1], [3, 1]]))]
        loss = mg.sum(rows)
    np.testing.assert_array_equal(tape.gradient(loss, table).numpy()[:, 0], [0, 3, 0, 1])


def test_constants_and_one_hot():
    assert mg.zeros((2, 3)).dtype == np.float32
    assert mg.ones(2, dtype="float64").dtype == np.float64
    assert mg.zeros_like(mg.tensor(np.arange(3))).dtype == np.int64
    np.testing.assert_array_equal(mg.ones_like(np.zeros((2, 2))).numpy(), np.ones((2, 2)))
    hot = mg.one_hot(np.array([0, 2, 5]), 3)
    assert hot.dtype == np.float32
    np.testing.assert_array_equal(hot.numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0]])


def test_comparisons_return_bool_tensors():
    a = mg.tensor([1.0, 2.0, 3.0])
    for result, expected in [
        (a == 2.0, [False, True, False]),
        (a != 2.0, [True, False, True]),
        (a < 2.0, [True, False, False]),
        (a <= 2.0, [True, True, False]),
        (a > 2.0, [False, False, True]),
        (a >= 2.0, [False, True, True]),
    ]:
        assert result.dtype == np.bool_
        np.testing.assert_array_equal(result.numpy(), expected)
    assert len({a, mg.tensor([1.0, 2.0, 3.0])}) == 2  # hash by identity


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_unstack_is_one_record_and_its_gradient_restacks(axis):
    x = arrays((2, 3, 4), seed=12)
    parts = mg.unstack(mg.tensor(x), axis=axis)
    assert len(parts) == x.shape[axis]
    for i, part in enumerate(parts):
        np.testing.assert_array_equal(part.numpy(), np.take(x, i, axis=axis))
    mg.gradcheck(
        lambda t: weighted_sum(mg.unstack(t, axis)[1]) + mg.sum(mg.unstack(t, axis)[0]), [x]
    )
    v = mg.Variable(x)
    with mg.GradientTape() as tape:
        parts = mg.unstack(v, axis=axis)
    assert [r.op for r in tape.records] == ["unstack"]


@pytest.mark.parametrize("table_shape", [(7,), (7, 3), (7, 2, 2)])
def test_integer_array_index_gradient_equals_add_at(table_shape):
    rng = np.random.default_rng(13)
    ids = rng.integers(-7, 7, size=(4, 9))
    table = mg.Variable(rng.normal(size=table_shape), dtype="float64")
    upstream = rng.normal(size=ids.shape + table_shape[1:])
    with mg.GradientTape() as tape:
        rows = table[ids]
    grad = tape.gradient(rows, table, output_gradients=upstream).numpy()
    expected = np.zeros(table_shape)
    np.add.at(expected, ids, upstream)
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
