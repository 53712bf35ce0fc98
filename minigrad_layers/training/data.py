"""The data side of the training loops: ``x`` and ``y`` as lists of arrays that share their first
(sample) axis, checked once, split into training and validation parts, and cut into batches.

``fit(x, y, validation_split=0.25)`` on 8 samples with ``batch_size=3``::

    samples     0 1 2 3 4 5 | 6 7        the last quarter is held out, before any shuffling
    training    [3 0 5] [1 4 2]          a fresh permutation each epoch (shuffle=True)
    validation  [6 7]                    in order; the last batch of each may be smaller

``steps = ceil(n / batch_size)`` batches make one epoch.

>>> import numpy as np
>>> data = ArrayData(np.arange(10).reshape(5, 2), np.zeros(5))
>>> data.num_samples, data.num_batches(2)
(5, 3)
>>> [targets[0].shape for _, targets in data.batches(2)]
[(2,), (2,), (1,)]
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import minigrad as mg

__all__ = ["ArrayData", "check_batch_size", "check_validation_split", "training_and_validation"]

DEFAULT_BATCH_SIZE = 32


def check_batch_size(batch_size) -> int:
    """A positive int; ``None`` means Keras's default of 32."""
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be a positive int or None, received {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int or None, received {batch_size}")
    return int(batch_size)


def check_validation_split(validation_split) -> float:
    """A number in [0, 1): the fraction of the samples held out for validation."""
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
        raise TypeError(
            f"validation_split must be a float in [0, 1), received {validation_split!r}"
        )
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), received {validation_split}")
    return float(validation_split)


def _as_arrays(data, what: str) -> tuple[list[np.ndarray], bool]:
    """``(arrays, single)``: one array, or a list/tuple of arrays (several inputs or outputs)."""
    if data is None:
        raise ValueError(f"{what} is required (a numpy array or a list of arrays)")
    if (
        isinstance(data, list | tuple)
        and data
        and all(isinstance(a, np.ndarray | mg.Tensor) for a in data)
    ):
        arrays, single = [np.asarray(a) for a in data], False
    else:
        arrays, single = [np.asarray(data)], True
    for a in arrays:
        if a.ndim == 0:
            raise ValueError(f"{what} needs a sample axis first, received a scalar")
    return arrays, single


def _num_samples(xs: list[np.ndarray], ys: list[np.ndarray] | None) -> int:
    """The common number of samples; a mismatch names the sizes."""
    x_sizes = [len(a) for a in xs]
    if len(set(x_sizes)) > 1:
        raise ValueError(f"All input arrays must have the same number of samples, got {x_sizes}")
    n = x_sizes[0]
    if ys is not None:
        y_sizes = [len(a) for a in ys]
        if any(size != n for size in y_sizes):
            shown = y_sizes[0] if len(y_sizes) == 1 else y_sizes
            raise ValueError(
                f"x and y have different numbers of samples: x has {n}, y has {shown}; "
                "they must match (one target per input sample)"
            )
    if n == 0:
        raise ValueError("x is empty: it has 0 samples")
    return n


class ArrayData:
    """Inputs ``x`` (an array, or a list of arrays for several inputs) and, unless ``targets``
    is False (``predict``), targets ``y`` (likewise, for several outputs), with the same number
    of samples. ``what`` prefixes the names in error messages (``"validation "``)."""

    def __init__(self, x, y=None, *, targets: bool = True, what: str = ""):
        self.xs, self.single_input = _as_arrays(x, f"{what}x")
        self.ys = _as_arrays(y, f"{what}y")[0] if targets else None
        self.num_samples = _num_samples(self.xs, self.ys)

    def _take(self, index) -> ArrayData:
        """The samples at ``index`` (a slice)."""
        xs = [a[index] for a in self.xs]
        ys = None if self.ys is None else [a[index] for a in self.ys]
        return ArrayData(xs[0] if self.single_input else xs, ys, targets=ys is not None)

    def split(self, validation_split: float) -> tuple[ArrayData, ArrayData]:
        """``(training, validation)``: the last ``validation_split`` of the samples held out
        (``int(n * (1 - validation_split))`` samples stay for training, as in Keras)."""
        n = self.num_samples
        split_at = int(n * (1.0 - validation_split))
        if split_at in (0, n):
            raise ValueError(
                f"validation_split={validation_split} of {n} samples leaves "
                f"{split_at} for training and {n - split_at} for validation; both must be "
                "non-empty"
            )
        return self._take(slice(0, split_at)), self._take(slice(split_at, n))

    def num_batches(self, batch_size: int) -> int:
        """Steps in one pass: ``ceil(num_samples / batch_size)``."""
        return math.ceil(self.num_samples / batch_size)

    def batches(self, batch_size: int, shuffle: bool = False):
        """An iterator of ``(inputs, targets)``, one pair per batch: ``inputs`` as the model
        takes them (a Tensor, or a list of Tensors for several inputs), ``targets`` a list of
        arrays (``None`` without targets). With ``shuffle``, the order is a permutation drawn
        now from ``mg.random.generator()`` (so ``mg.random.seed`` makes it repeatable)."""
        n = self.num_samples
        order = mg.random.generator().permutation(n) if shuffle else None
        starts = range(0, n, batch_size)
        indices = (
            slice(s, s + batch_size) if order is None else order[s : s + batch_size] for s in starts
        )
        return (self._batch(index) for index in indices)

    def _batch(self, index):
        tensors = [mg.tensor(a[index]) for a in self.xs]
        inputs = tensors[0] if self.single_input else tensors
        return inputs, None if self.ys is None else [a[index] for a in self.ys]


def training_and_validation(
    x, y, validation_data=None, validation_split: float = 0.0
) -> tuple[ArrayData, ArrayData | None]:
    """``fit``'s data: ``(training, validation)``, the validation part given explicitly as
    ``validation_data=(x_val, y_val)`` (which wins, as in Keras), else held out from the end by
    ``validation_split``, else ``None``."""
    validation_split = check_validation_split(validation_split)
    data = ArrayData(x, y)
    if validation_data is not None:
        if not isinstance(validation_data, list | tuple) or len(validation_data) != 2:
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val), received "
                f"{type(validation_data).__name__}"
            )
        return data, ArrayData(*validation_data, what="validation ")
    if validation_split:
        return data.split(validation_split)
    return data, None
