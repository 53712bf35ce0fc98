"""Metrics: running means over an epoch, computed with numpy (no tape involved).

A metric function gives one value per sample (or per time step); a :class:`Mean` accumulates
``total`` and ``count`` so that its ``result()`` is the mean over all samples seen since the last
``reset_state()``, each batch weighted by its number of samples (Keras 3 ``Mean``). When the model
output carries a mask (``get_keras_mask(y_pred)``), masked steps are left out: the result is the
mean over the unmasked steps.

``"accuracy"`` (or ``"acc"``) is resolved from the loss and the shapes, as Keras does:
binary accuracy (threshold 0.5) for a ``binary_crossentropy`` loss or a single-unit output,
sparse categorical accuracy for integer targets with a class axis on the output (targets of lower
rank, or a last axis of size 1), categorical accuracy for one-hot targets.

>>> import numpy as np
>>> m = get("accuracy", y_true=np.array([0, 1, 1]), y_pred=np.array([[0.9, 0.1]] * 3))
>>> m.update_state(np.array([0, 1, 1]), np.array([[0.9, 0.1]] * 3))
>>> m.name, round(m.result(), 4)
('accuracy', 0.3333)
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from minigrad_layers.engine.masks import get_keras_mask
from minigrad_layers.training import losses as losses_module

__all__ = [
    "Mean",
    "MeanMetricWrapper",
    "Metric",
    "binary_accuracy",
    "categorical_accuracy",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "sparse_categorical_accuracy",
]


# ---------------------------------------------------------------------------------------------
# metric functions: numpy in, one value per sample (or step) out
# ---------------------------------------------------------------------------------------------


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1.0 where ``(y_pred > threshold)`` equals the 0/1 target, else 0.0."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    y_true, y_pred = losses_module.matched_targets(y_true, y_pred, "binary_accuracy")
    return (y_true == (y_pred > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where the arg-max class of the output equals that of the one-hot target."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    losses_module.matched_targets(y_true, y_pred, "categorical_accuracy")
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where the arg-max class of the output equals the integer target (targets checked
    as the sparse loss checks them: shape, integer values, range)."""
    y_pred = np.asarray(y_pred)
    y_true = losses_module.class_ids(y_true, y_pred.shape, "sparse_categorical_accuracy")
    return (np.argmax(y_pred, axis=-1) == y_true).astype(np.float64)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """``mean(|y_pred - y_true|, axis=-1)`` (the loss function, evaluated off the tape)."""
    return losses_module.mean_absolute_error(y_true, np.asarray(y_pred)).numpy()


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """``mean((y_pred - y_true)**2, axis=-1)``."""
    return losses_module.mean_squared_error(y_true, np.asarray(y_pred)).numpy()


# ---------------------------------------------------------------------------------------------
# running means
# ---------------------------------------------------------------------------------------------


class Metric:
    """A named running quantity: ``update_state(...)``, ``result()`` (a float),
    ``reset_state()``. ``direction`` is ``"up"`` when larger is better (accuracy), else
    ``"down"``; ``EarlyStopping(mode="auto")`` reads it."""

    direction = "down"

    def __init__(self, name: str):
        self.name = name
        self.reset_state()

    def reset_state(self) -> None:
        raise NotImplementedError

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.4g}>"


class Mean(Metric):
    """Weighted mean of values over everything seen since the last reset.

    ``update_state(values, sample_weight=None)``: ``values`` is a scalar (then ``sample_weight``
    is its weight, e.g. a batch loss weighted by the batch size) or an array whose first axis is
    the batch; per-step values are averaged within each sample, and the weights (broadcast to the
    values) are averaged the same way, as in Keras.

    >>> m = Mean("loss")
    >>> m.update_state(1.0, sample_weight=3); m.update_state(2.0, sample_weight=1)
    >>> m.result()
    1.25
    """

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 0:
            weight = 1.0 if sample_weight is None else float(sample_weight)
            self.total += float(values) * weight
            self.count += weight
            return
        batch = values.shape[0]
        if sample_weight is None:
            self.total += float(values.reshape(batch, -1).mean(axis=1).sum())
            self.count += batch
            return
        weights = np.asarray(sample_weight, dtype=np.float64)
        while weights.ndim > values.ndim and weights.shape[-1] == 1:
            weights = weights[..., 0]
        while values.ndim > weights.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
        weights = np.broadcast_to(weights, values.shape)
        self.total += float((values * weights).reshape(batch, -1).mean(axis=1).sum())
        self.count += float(weights.reshape(batch, -1).mean(axis=1).sum())

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of ``fn(y_true, y_pred)``; ``update_state(y_true, y_pred,
    sample_weight=None)`` leaves out the steps masked by ``get_keras_mask(y_pred)``.

    >>> m = MeanMetricWrapper(sparse_categorical_accuracy, "acc", direction="up")
    """

    def __init__(self, fn: Callable, name: str, direction: str = "down"):
        super().__init__(name)
        self.fn = fn
        self.direction = direction

    def get_config(self) -> dict:
        return {"fn": self.fn, "name": self.name, "direction": self.direction}

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        mask = get_keras_mask(y_pred)
        values = self.fn(np.asarray(y_true), np.asarray(y_pred))
        if mask is not None:
            mask = np.asarray(mask, dtype=np.float64)
            if sample_weight is None:
                sample_weight = mask
            else:
                sw = np.asarray(sample_weight, dtype=np.float64)
                sample_weight = mask * sw.reshape(sw.shape + (1,) * (mask.ndim - sw.ndim))
        super().update_state(values, sample_weight)


# ---------------------------------------------------------------------------------------------
# lookup
# ---------------------------------------------------------------------------------------------

_BY_NAME: dict[str, tuple[Callable, str]] = {
    "binary_accuracy": (binary_accuracy, "up"),
    "categorical_accuracy": (categorical_accuracy, "up"),
    "sparse_categorical_accuracy": (sparse_categorical_accuracy, "up"),
    "mae": (mean_absolute_error, "down"),
    "mean_absolute_error": (mean_absolute_error, "down"),
    "mse": (mean_squared_error, "down"),
    "mean_squared_error": (mean_squared_error, "down"),
}
_ACCURACY_NAMES = ("accuracy", "acc")


def check(identifier) -> None:
    """Raise early (at compile time) for a metric that :func:`get` could never resolve."""
    if isinstance(identifier, Metric) or callable(identifier):
        return
    if isinstance(identifier, str) and (
        identifier in _BY_NAME or identifier.lower() in _ACCURACY_NAMES
    ):
        return
    raise ValueError(
        f"Unknown metric {identifier!r}: expected one of "
        f"{sorted([*_BY_NAME, *_ACCURACY_NAMES])}, a Metric instance, or a function "
        "fn(y_true, y_pred) returning per-sample values"
    )


def resolve_accuracy(loss, y_true, y_pred) -> Callable:
    """The accuracy function Keras picks for ``"accuracy"`` given the loss and the shapes."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if isinstance(loss, losses_module.BinaryCrossentropy) or y_pred.ndim <= 1:
        return binary_accuracy
    if y_pred.shape[-1] == 1:
        return binary_accuracy
    if y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


def get(identifier, loss=None, y_true=None, y_pred=None) -> Metric:
    """A fresh metric from its Keras name, a copy of a ``Metric`` instance, or a function
    ``fn(y_true, y_pred)`` (wrapped in a running mean). ``"accuracy"``/``"acc"`` need ``y_true``
    and ``y_pred`` (one batch) to be resolved; the metric keeps the name it was asked by."""
    check(identifier)
    if isinstance(identifier, Metric):
        return copy.deepcopy(identifier)
    if isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES:
        if y_true is None or y_pred is None:
            raise ValueError(f"Resolving {identifier!r} needs a batch of y_true and y_pred")
        return MeanMetricWrapper(resolve_accuracy(loss, y_true, y_pred), identifier, "up")
    if isinstance(identifier, str):
        fn, direction = _BY_NAME[identifier]
        return MeanMetricWrapper(fn, identifier, direction)
    return MeanMetricWrapper(identifier, getattr(identifier, "__name__", "metric"))
