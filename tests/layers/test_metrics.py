"""Metric resolution ("accuracy" as Keras picks it), running means, masks."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers import losses, metrics


@pytest.mark.parametrize(
    ("loss", "y_true_shape", "y_pred_shape", "expected"),
    [
        ("mse", (8, 1), (8, 1), metrics.binary_accuracy),  # single unit
        ("mse", (8,), (8, 1), metrics.binary_accuracy),
        ("binary_crossentropy", (8, 3), (8, 3), metrics.binary_accuracy),  # multi-label
        ("categorical_crossentropy", (8, 3), (8, 3), metrics.categorical_accuracy),
        ("sparse_categorical_crossentropy", (8,), (8, 3), metrics.sparse_categorical_accuracy),
        ("sparse_categorical_crossentropy", (8, 1), (8, 3), metrics.sparse_categorical_accuracy),
        ("sparse_categorical_crossentropy", (8, 5), (8, 5, 3), metrics.sparse_categorical_accuracy),
        ("categorical_crossentropy", (8, 5, 3), (8, 5, 3), metrics.categorical_accuracy),
    ],
)
def test_accuracy_resolution(loss, y_true_shape, y_pred_shape, expected):
    y_true, y_pred = np.zeros(y_true_shape), np.zeros(y_pred_shape)
    metric = metrics.get("accuracy", loss=losses.get(loss), y_true=y_true, y_pred=y_pred)
    assert metric.fn is expected and metric.name == "accuracy" and metric.direction == "up"
    assert metrics.get("acc", losses.get(loss), y_true, y_pred).name == "acc"


def test_accuracy_functions():
    np.testing.assert_array_equal(
        metrics.binary_accuracy(np.array([[1.0], [0.0], [1.0]]), np.array([[0.7], [0.6], [0.4]])),
        [[1.0], [0.0], [0.0]],
    )
    y_pred = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    np.testing.assert_array_equal(
        metrics.sparse_categorical_accuracy(np.array([1, 1, 1]), y_pred), [1.0, 0.0, 1.0]
    )
    np.testing.assert_array_equal(
        metrics.categorical_accuracy(np.eye(2)[[1, 0, 0]], y_pred), [1.0, 1.0, 0.0]
    )


def test_running_mean_weights_batches_by_sample_count():
    metric = metrics.get("sparse_categorical_accuracy")
    metric.update_state(np.array([0, 0, 0]), np.array([[1.0, 0.0]] * 3))  # 3 of 3
    metric.update_state(np.array([1]), np.array([[1.0, 0.0]]))  # 0 of 1
    assert metric.result() == pytest.approx(0.75)
    metric.reset_state()
    assert metric.result() == 0.0


def test_loss_mean():
    mean = metrics.Mean("loss")
    mean.update_state(2.0, sample_weight=32)
    mean.update_state(4.0, sample_weight=8)
    assert mean.result() == pytest.approx((2 * 32 + 4 * 8) / 40)


def test_masked_steps_are_left_out():
    y_true = np.array([[1, 2, 0], [0, 0, 0]])
    scores = np.zeros((2, 3, 3))
    scores[0, 0, 1] = scores[0, 1, 0] = scores[1, 0, 0] = scores[1, 1, 1] = scores[1, 2, 0] = 1
    mask = np.array([[True, True, False], [True, True, False]])
    y_pred = mg.tensor(scores)
    mgl.set_keras_mask(y_pred, mg.tensor(mask))
    metric = metrics.get("accuracy", y_true=y_true, y_pred=scores)
    metric.update_state(y_true, y_pred)
    correct = np.argmax(scores, -1) == y_true
    assert metric.result() == pytest.approx(correct[mask].mean())  # 2 of 4
    # a second batch accumulates over unmasked steps
    y_pred2 = mg.tensor(scores[:1])
    mgl.set_keras_mask(y_pred2, mg.tensor(np.array([[True, False, False]])))
    metric.update_state(y_true[:1], y_pred2)
    assert metric.result() == pytest.approx(3 / 5)


def test_mae_metric_with_mask():
    y_true, y_pred = np.zeros((1, 3, 2)), np.array([[[1.0, 1.0], [2.0, 4.0], [9.0, 9.0]]])
    out = mg.tensor(y_pred)
    mgl.set_keras_mask(out, np.array([[True, True, False]]))
    metric = metrics.get("mae")
    metric.update_state(y_true, out)
    assert metric.result() == pytest.approx((1.0 + 3.0) / 2)
    assert metric.name == "mae" and metric.direction == "down"


def test_unknown_metric():
    with pytest.raises(ValueError, match=r"f1.*'accuracy'.*'mae'"):
        metrics.check("f1")


def test_function_metric():
    def max_error(y_true, y_pred):
        return np.max(np.abs(y_true - y_pred), axis=-1)

    metric = metrics.get(max_error)
    metric.update_state(np.zeros((2, 2)), np.array([[1.0, -3.0], [0.5, 0.0]]))
    assert metric.name == "max_error" and metric.result() == pytest.approx(1.75)
