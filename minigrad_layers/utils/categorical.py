"""``to_categorical``: integer class labels to one-hot rows, as ``keras.utils.to_categorical``.

``y = [0, 2, 1]`` with 3 classes::

    [[1, 0, 0],
     [0, 0, 1],
     [0, 1, 0]]

Shape: labels ``(...)`` (a trailing axis of size 1 is dropped first) → ``(..., num_classes)``.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["to_categorical"]


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot float32 rows: ``out[..., k] = 1`` where ``x[...] == k``, else 0.

    ``num_classes`` defaults to ``max(x) + 1``. Labels must be integers in ``[0, num_classes)``:
    anything else is a ``ValueError`` naming the label (numpy would wrap a negative one silently).
    """
    labels = np.asarray(x)
    if labels.dtype == object or not (
        np.issubdtype(labels.dtype, np.integer)
        or (np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)))
    ):
        raise TypeError(
            f"to_categorical expects integer class labels, received dtype {labels.dtype}"
        )
    labels = labels.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"num_classes must be a positive int, received {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, received {num_classes}")
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise ValueError(
            f"to_categorical: label {labels[outside].flat[0]} is outside [0, {num_classes}) "
            f"(num_classes={num_classes})"
        )
    return np.eye(num_classes, dtype=np.float32)[labels]
