"""Targets that do not fit the outputs raise (no silent broadcast), for losses and metrics alike;
a last axis of size 1 is fixed up as Keras does; sparse labels must be integer class ids."""

import re

import numpy as np
import pytest

import minigrad as mg
from minigrad_layers import losses, metrics

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name", ["mse", "mae", "binary_crossentropy"])
def test_a_last_axis_of_size_one_is_fixed_up(name):
    y, p = RNG.random(4), RNG.random(4)
    loss = losses.get(name)
    reference = float(loss(y[:, None], mg.tensor(p[:, None], dtype="float64")))
    for y_true, y_pred in [(y, p[:, None]), (y[:, None], p), (y[:, None], p[:, None])]:
        value = float(loss(y_true, mg.tensor(y_pred, dtype="float64")))
        np.testing.assert_allclose(value, reference, rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("mse", "mean_squared_error"),
        ("mae", "mean_absolute_error"),
        ("binary_crossentropy", "binary_crossentropy"),
    ],
)
def test_other_mismatches_raise_naming_both_shapes(name, fn):
    for y_shape, p_shape in [((4,), (4, 4)), ((4, 2), (4, 3)), ((3,), (4, 1))]:
        expected = f"{fn}: y_true and y_pred must have the same shape"
        with pytest.raises(ValueError, match=re.escape(expected)) as info:
            losses.get(name)(np.zeros(y_shape), np.full(p_shape, 0.5))
        assert f"y_true {y_shape} and y_pred {p_shape}" in str(info.value)


def test_metrics_raise_alike():
    with pytest.raises(ValueError, match=re.escape("y_true (4,) and y_pred (4, 4)")):
        metrics.mean_squared_error(np.zeros(4), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=re.escape("binary_accuracy: y_true and y_pred")):
        metrics.binary_accuracy(np.zeros(4), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=re.escape("y_true (4, 3) and y_pred (4, 2)")):
        metrics.categorical_accuracy(np.zeros((4, 3)), np.zeros((4, 2)))
    np.testing.assert_array_equal(
        metrics.binary_accuracy(np.array([1.0, 0.0]), np.array([[0.9], [0.8]])), [[1.0], [0.0]]
    )


SPARSE = [
    losses.SparseCategoricalCrossentropy(),
    metrics.sparse_categorical_accuracy,
]


@pytest.mark.parametrize("fn", SPARSE, ids=["loss", "accuracy"])
def test_sparse_labels_outside_the_classes_raise(fn):
    probs = np.full((3, 3), 1 / 3)
    for labels, bad in [([0, 5, 1], "5"), ([-1, 0, 0], "-1")]:
        with pytest.raises(ValueError, match=re.escape("[0, 3)")) as info:
            fn(np.array(labels), probs)
        assert f"received the label {bad}" in str(info.value)


@pytest.mark.parametrize("fn", SPARSE, ids=["loss", "accuracy"])
def test_sparse_labels_must_be_integer_valued(fn):
    probs = RNG.random((3, 3))
    with pytest.raises(ValueError, match=re.escape("non-integer label 1.7")):
        fn(np.array([0.0, 1.7, 2.0]), probs)
    with pytest.raises(ValueError, match="non-integer label nan"):
        fn(np.array([0.0, np.nan, 2.0]), probs)
    with pytest.raises(ValueError, match="integer class ids, received dtype <U1"):
        fn(np.array(["a", "b", "c"]), probs)
    as_floats = fn(np.array([0.0, 1.0, 2.0]), probs)  # integer-valued floats are class ids
    as_ints = fn(np.array([0, 1, 2]), probs)
    np.testing.assert_allclose(np.asarray(as_floats), np.asarray(as_ints))
