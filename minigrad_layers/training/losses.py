"""Losses, built from minigrad ops so that their gradients come from the tape (Keras 3 semantics).

A loss is computed in two stages, as in Keras:

1. the loss *function* (``mean_squared_error``, ``sparse_categorical_crossentropy``, ...) gives
   one value per sample, or per time step for sequence outputs: it reduces only the last axis;
2. the loss *object* (``MeanSquaredError()``, ...) weights those values by ``sample_weight`` and
   by the output's mask, then reduces them (default ``"sum_over_batch_size"``: the mean).

Masking: when ``y_pred`` carries a mask (``get_keras_mask(y_pred)``, bool, True = keep; e.g. the
output of ``Embedding(mask_zero=True)`` -> ``LSTM(return_sequences=True)`` -> ``Dense``), masked
steps get weight 0 and the others ``total / valid``, so the mean becomes
``sum(loss * mask) / sum(mask)``: the mean over the unmasked steps only (Keras 3 ``apply_mask``).

Shapes: ``y_true`` has the shape of ``y_pred``, up to Keras's fix-up of a last axis of size 1
(targets ``(B,)`` with outputs ``(B, 1)`` are fine); sparse losses take integer class ids of the
shape of ``y_pred`` without its class axis, each in ``[0, classes)``. Anything else raises a
ValueError naming both shapes, or the bad label: never a silent broadcast.

Numerical stability: from logits, categorical losses use ``log_softmax`` and the binary one the
form ``max(x, 0) - x * z + log(1 + exp(-|x|))``; from probabilities, ``y_pred`` is clipped to
``[1e-7, 1 - 1e-7]`` (Keras's epsilon) before the log.

>>> import numpy as np
>>> import minigrad_layers as mgl
>>> mse = mgl.losses.MeanSquaredError()
>>> float(mse(np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])))
0.5
>>> sce = mgl.losses.get("sparse_categorical_crossentropy")
>>> round(float(sce(np.array([0]), np.array([[0.5, 0.5]]))), 4)
0.6931
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import minigrad as mg
from minigrad_layers.engine.masks import get_keras_mask

__all__ = [
    "EPSILON",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "sparse_categorical_crossentropy",
]

EPSILON = 1e-7
"""Keras's fuzz factor: probabilities are clipped to ``[EPSILON, 1 - EPSILON]`` before a log."""

_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "none", None)


# ---------------------------------------------------------------------------------------------
# helpers: operands, ranks
# ---------------------------------------------------------------------------------------------


def _prediction(y_pred) -> mg.Tensor:
    """``y_pred`` as a float Tensor (a Tensor is kept as is, so the tape sees it)."""
    if not isinstance(y_pred, mg.Tensor):
        y_pred = mg.tensor(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = mg.cast(y_pred, mg.floatx())
    return y_pred


def _squeeze_last(x):
    return mg.squeeze(x, -1) if isinstance(x, mg.Tensor) else np.squeeze(x, -1)


def _expand_last(x):
    return mg.expand_dims(x, -1) if isinstance(x, mg.Tensor) else np.expand_dims(x, -1)


def squeeze_or_expand_to_same_rank(x1, x2):
    """Keras's rank fix-up: when the ranks differ by one and the longer has a last axis of size
    1, squeeze it (or, if the shorter is 1-D, expand the shorter instead). E.g. targets ``(B,)``
    with outputs ``(B, 1)`` become ``(B, 1)`` and ``(B, 1)``. Works on arrays and Tensors."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1:
            x2 = _expand_last(x2)
        else:
            x1 = _squeeze_last(x1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1:
            x1 = _expand_last(x1)
        else:
            x2 = _squeeze_last(x2)
    return x1, x2


def _check_same_shape(y_true, y_pred, fn: str) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{fn}: y_true and y_pred must have the same shape (up to a last axis of size 1), "
            f"received y_true {tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)}"
        )


def matched_targets(y_true, y_pred, fn: str):
    """``(y_true, y_pred)`` with the same shape: Keras's fix-up of a last axis of size 1
    (:func:`squeeze_or_expand_to_same_rank`), then any other difference is a ValueError naming
    both shapes (never a silent broadcast: targets ``(4,)`` against outputs ``(4, 4)`` raise)."""
    fixed_true, fixed_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if fixed_true.shape != fixed_pred.shape:
        _check_same_shape(y_true, y_pred, fn)  # names the shapes as given
    return fixed_true, fixed_pred


def class_ids(y_true, y_pred_shape: tuple, fn: str) -> np.ndarray:
    """Integer class targets for outputs of ``y_pred_shape`` ``(..., classes)``: ``y_true`` of
    shape ``(...)`` or ``(..., 1)``, integer-valued (floats such as ``2.0`` are accepted), each in
    ``[0, classes)``; anything else is a ValueError naming the offending value."""
    ids = np.asarray(y_true)
    if ids.ndim == len(y_pred_shape) and ids.ndim and ids.shape[-1] == 1:
        ids = ids[..., 0]
    if ids.shape != tuple(y_pred_shape[:-1]):
        raise ValueError(
            f"{fn}: y_true must have the shape of y_pred without its last (class) axis, "
            f"received y_true {np.shape(y_true)} and y_pred {tuple(y_pred_shape)}"
        )
    classes = y_pred_shape[-1]
    if ids.dtype.kind not in "iu":
        if ids.dtype.kind != "f":
            raise ValueError(
                f"{fn}: y_true must hold integer class ids, received dtype {ids.dtype}"
            )
        fractional = ids != np.round(ids)  # also True for NaN
        if fractional.any():
            raise ValueError(
                f"{fn}: y_true must hold integer class ids in [0, {classes}), received the "
                f"non-integer label {str(ids[fractional].flat[0])}"
            )
        ids = ids.astype(np.int64)
    outside = (ids < 0) | (ids >= classes)
    if outside.any():
        raise ValueError(
            f"{fn}: class ids must lie in [0, {classes}) for y_pred with {classes} classes, "
            f"received the label {ids[outside].flat[0].item()}"
        )
    return ids


# ---------------------------------------------------------------------------------------------
# loss functions: one value per sample (per step for sequences); only the last axis is reduced
# ---------------------------------------------------------------------------------------------


def mean_squared_error(y_true, y_pred) -> mg.Tensor:
    """``mean((y_pred - y_true)**2, axis=-1)``."""
    y_pred = _prediction(y_pred)
    y_true, y_pred = matched_targets(np.asarray(y_true, y_pred.dtype), y_pred, "mean_squared_error")
    diff = y_pred - y_true
    return mg.mean(diff * diff, axis=-1)


def mean_absolute_error(y_true, y_pred) -> mg.Tensor:
    """``mean(|y_pred - y_true|, axis=-1)``."""
    y_pred = _prediction(y_pred)
    y_true = np.asarray(y_true, y_pred.dtype)
    y_true, y_pred = matched_targets(y_true, y_pred, "mean_absolute_error")
    return mg.mean(mg.abs(y_pred - y_true), axis=-1)


def binary_crossentropy(y_true, y_pred, from_logits: bool = False) -> mg.Tensor:
    """``mean(-z log p - (1 - z) log(1 - p), axis=-1)`` with ``p`` the predicted probability.

    From logits ``x`` (``p = sigmoid(x)``) the same quantity is computed as
    ``max(x, 0) - x * z + log(1 + exp(-|x|))``: exp never overflows, and the gradient is exactly
    ``sigmoid(x) - z`` everywhere, also at ``x = 0``.
    """
    y_pred = _prediction(y_pred)
    y_true = np.asarray(y_true, y_pred.dtype)
    y_true, y_pred = matched_targets(y_true, y_pred, "binary_crossentropy")
    if from_logits:
        x = y_pred
        positive = x >= 0  # a constant: selects the branch, never differentiated
        relu_x = mg.where(positive, x, 0.0)  # max(x, 0)
        minus_abs_x = mg.where(positive, -x, x)  # -|x|
        losses = relu_x - x * y_true + mg.log(1.0 + mg.exp(minus_abs_x))
    else:
        p = mg.clip(y_pred, EPSILON, 1.0 - EPSILON)
        losses = -(y_true * mg.log(p) + (1.0 - y_true) * mg.log(1.0 - p))
    return mg.mean(losses, axis=-1)


def _log_probabilities(y_pred: mg.Tensor, from_logits: bool) -> mg.Tensor:
    """log p over the last axis: log_softmax of logits, or the log of renormalised, clipped
    probabilities (as Keras: ``p / sum(p)`` clipped to ``[EPSILON, 1 - EPSILON]``)."""
    if from_logits:
        return mg.log_softmax(y_pred, axis=-1)
    p = y_pred / mg.sum(y_pred, axis=-1, keepdims=True)
    return mg.log(mg.clip(p, EPSILON, 1.0 - EPSILON))


def categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> mg.Tensor:
    """``-sum(y_true * log p, axis=-1)`` for one-hot (or soft) targets of the output's shape."""
    y_pred = _prediction(y_pred)
    y_true = np.asarray(y_true, y_pred.dtype)
    _check_same_shape(y_true, y_pred, "categorical_crossentropy")
    return -mg.sum(y_true * _log_probabilities(y_pred, from_logits), axis=-1)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False) -> mg.Tensor:
    """``-log p[y_true]`` for integer class ids: targets ``(...)`` (or ``(..., 1)``) with
    outputs ``(..., classes)``, checked by :func:`class_ids`."""
    y_pred = _prediction(y_pred)
    ids = class_ids(y_true, y_pred.shape, "sparse_categorical_crossentropy")
    one_hot = (ids[..., None] == np.arange(y_pred.shape[-1])).astype(y_pred.dtype)  # (..., C)
    return -mg.sum(one_hot * _log_probabilities(y_pred, from_logits), axis=-1)


# ---------------------------------------------------------------------------------------------
# weighting and reduction (Keras 3 reduce_weighted_values / apply_mask)
# ---------------------------------------------------------------------------------------------


def _align_weights(weights: np.ndarray, values: mg.Tensor, what: str) -> np.ndarray:
    """Give per-sample or per-step ``weights`` a shape that broadcasts against ``values``."""
    while weights.ndim > values.ndim and weights.shape[-1] == 1:
        weights = weights[..., 0]
    if weights.ndim < values.ndim:  # (B,) against (B, T): one weight per sample
        weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
    try:
        np.broadcast_shapes(weights.shape, values.shape)
    except ValueError:
        hint = ""
        if what == "mask":
            hint = (
                "; a mask needs one loss value per time step: give y_true the shape of the "
                "output (e.g. (batch, timesteps, 1) for a Dense(1) output)"
            )
        raise ValueError(
            f"The {what} of shape {weights.shape} does not match the per-sample losses of shape "
            f"{values.shape}{hint}"
        ) from None
    return weights


def reduce_weighted_values(
    values: mg.Tensor, sample_weight=None, mask=None, reduction="sum_over_batch_size"
) -> mg.Tensor:
    """Weight ``values`` by ``sample_weight`` and ``mask``, then reduce.

    With a mask and a mean reduction, kept entries get weight ``total / valid`` and masked ones
    0, so ``mean(values * weights) = sum(values * mask) / valid``; ``valid == 0`` gives 0.
    """
    weights = None
    if mask is not None:
        mask = np.asarray(mask).astype(values.dtype)
        if reduction in ("sum_over_batch_size", "mean"):
            valid = mask.sum()
            mask = mask * (mask.size / valid) if valid > 0 else np.zeros_like(mask)
        weights = _align_weights(mask, values, "mask")
    if sample_weight is not None:
        sw = _align_weights(np.asarray(sample_weight, dtype=values.dtype), values, "sample_weight")
        weights = sw if weights is None else weights * sw
    if weights is not None:
        values = values * weights
    if reduction in ("none", None) or values.ndim == 0:
        return values
    total = mg.sum(values)
    if reduction == "sum":
        return total
    return total / float(max(values.size, 1))


# ---------------------------------------------------------------------------------------------
# loss objects
# ---------------------------------------------------------------------------------------------


class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None)`` returns a scalar Tensor (for the
    mean reductions) that the tape can differentiate.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample (or per-step) values.
    ``reduction``: ``"sum_over_batch_size"`` (default; also ``"mean"``), ``"sum"``, or
    ``"none"``/``None`` (the weighted per-sample values).
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"reduction must be one of {list(_REDUCTIONS)}, received {reduction!r}"
            )
        self.name = name or type(self).__name__
        self.reduction = reduction

    def __call__(self, y_true, y_pred, sample_weight=None) -> mg.Tensor:
        mask = get_keras_mask(y_pred)
        values = self.call(y_true, _prediction(y_pred))
        return reduce_weighted_values(values, sample_weight, mask, self.reduction)

    def call(self, y_true, y_pred) -> mg.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class LossFunctionWrapper(Loss):
    """A loss object around a loss function ``fn(y_true, y_pred, **kwargs)`` that returns one
    value per sample (e.g. a user's own function built from mg ops)."""

    def __init__(
        self,
        fn: Callable,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        **fn_kwargs,
    ):
        super().__init__(name or getattr(fn, "__name__", None), reduction)
        self.fn = fn
        self.fn_kwargs = fn_kwargs

    def get_config(self) -> dict:
        """``name``, ``reduction`` and the function's keywords; ``fn`` itself for a wrapper
        made directly (a subclass fixes its function)."""
        config = {**super().get_config(), **self.fn_kwargs}
        if type(self) is LossFunctionWrapper:
            config["fn"] = self.fn
        return config

    def call(self, y_true, y_pred) -> mg.Tensor:
        values = self.fn(y_true, y_pred, **self.fn_kwargs)
        return values if isinstance(values, mg.Tensor) else mg.tensor(values)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors (``"mse"``, ``"mean_squared_error"``).

    >>> float(MeanSquaredError()(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]])))
    2.5
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_squared_error"):
        super().__init__(mean_squared_error, name, reduction)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors (``"mae"``, ``"mean_absolute_error"``).

    >>> float(MeanAbsoluteError()(np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]])))
    1.5
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "mean_absolute_error"):
        super().__init__(mean_absolute_error, name, reduction)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for 0/1 targets (``"binary_crossentropy"``); ``from_logits=True``
    when the model outputs logits rather than sigmoid probabilities.

    >>> round(float(BinaryCrossentropy(from_logits=True)(np.array([[1.0]]), np.array([[0.0]]))), 4)
    0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        reduction="sum_over_batch_size",
        name: str = "binary_crossentropy",
    ):
        super().__init__(binary_crossentropy, name, reduction, from_logits=from_logits)
        self.from_logits = from_logits


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot targets (``"categorical_crossentropy"``).

    >>> cce = CategoricalCrossentropy(from_logits=True)
    >>> round(float(cce(np.array([[0.0, 1.0]]), np.array([[0.0, 0.0]]))), 4)
    0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        reduction="sum_over_batch_size",
        name: str = "categorical_crossentropy",
    ):
        super().__init__(categorical_crossentropy, name, reduction, from_logits=from_logits)
        self.from_logits = from_logits


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer class targets (``"sparse_categorical_crossentropy"``).

    >>> scce = SparseCategoricalCrossentropy(from_logits=True)
    >>> round(float(scce(np.array([1]), np.array([[0.0, 0.0]]))), 4)
    0.6931
    """

    def __init__(
        self,
        from_logits: bool = False,
        reduction="sum_over_batch_size",
        name: str = "sparse_categorical_crossentropy",
    ):
        super().__init__(sparse_categorical_crossentropy, name, reduction, from_logits=from_logits)
        self.from_logits = from_logits


_BY_NAME = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_BY_NAME.update({cls.__name__: cls for cls in set(_BY_NAME.values())})


def get(identifier) -> Loss | None:
    """A loss from its Keras name (``"mse"``, ``"sparse_categorical_crossentropy"``, a class name
    such as ``"MeanSquaredError"``, ...), a ``Loss`` instance (returned as is), or a function
    ``fn(y_true, y_pred)`` returning per-sample values (wrapped). ``None`` gives ``None``.

    >>> get("mse").name
    'mean_squared_error'
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_NAME.get(identifier.lower())
        if cls is not None:
            return cls()
    elif callable(identifier) and not isinstance(identifier, type):
        return LossFunctionWrapper(identifier)
    raise ValueError(
        f"Unknown loss {identifier!r}: expected one of {sorted(_BY_NAME)}, a Loss instance "
        "such as mgl.losses.SparseCategoricalCrossentropy(from_logits=True), or a function "
        "fn(y_true, y_pred)"
    )
