"""The data side of the training loops: ``x`` and ``y`` as lists of arrays that share their first
(sample) axis, checked once, split into training and validation parts, and cut into batches.

``fit(x, y, validation_split=0.25)`` on 8 samples with ``batch_size=3``::

    samples     0 1 2 3 4 5 | 6 7        the last quarter is held out, before any shuffling
    training    [3 0 5] [1 4 2]          a fresh permutation each epoch (shuffle=True)
    validation  [6 7]                    in order; the last batch of each may be smaller

``steps = ceil(n / batch_size)`` batches make one epoch. Data given as batches (a generator)
is a :class:`BatchStream` instead.

>>> import numpy as np
>>> data = ArrayData(np.arange(10).reshape(5, 2), np.zeros(5))
>>> data.num_samples, data.num_batches(2)
(5, 3)
>>> [targets[0].shape for _, targets, _ in data.batches(2)]
[(2,), (2,), (1,)]
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import minigrad as mg

__all__ = [
    "ArrayData",
    "BatchStream",
    "check_batch_size",
    "check_validation_split",
    "is_batch_stream",
    "stream_inputs",
    "training_and_validation",
]

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

    def __init__(self, x, y=None, sample_weight=None, *, targets: bool = True, what: str = ""):
        self.xs, self.single_input = _as_arrays(x, f"{what}x")
        self.ys = _as_arrays(y, f"{what}y")[0] if targets else None
        self.num_samples = _num_samples(self.xs, self.ys)
        self.sample_weight = _sample_weight(sample_weight, self.num_samples, what)

    def _take(self, index) -> ArrayData:
        """The samples at ``index`` (a slice)."""
        xs = [a[index] for a in self.xs]
        ys = None if self.ys is None else [a[index] for a in self.ys]
        sw = None if self.sample_weight is None else self.sample_weight[index]
        return ArrayData(xs[0] if self.single_input else xs, ys, sw, targets=ys is not None)

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
        """An iterator of ``(inputs, targets, sample_weight)``, one per batch: ``inputs`` as the
        model takes them (a Tensor, or a list of Tensors for several inputs), ``targets`` a list
        of arrays (``None`` without targets), ``sample_weight`` an array or None. With
        ``shuffle``, the order is a permutation drawn now from ``mg.random.generator()`` (so
        ``mg.random.seed`` makes it repeatable)."""
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
        targets = None if self.ys is None else [a[index] for a in self.ys]
        return inputs, targets, None if self.sample_weight is None else self.sample_weight[index]


def _sample_weight(sample_weight, n: int, what: str) -> np.ndarray | None:
    """``sample_weight`` as a float array of one weight per sample (or None)."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim != 1 or len(weights) != n:
        raise ValueError(
            f"{what}sample_weight must hold one weight per sample, shape ({n},); received shape "
            f"{weights.shape}"
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(f"{what}sample_weight must be finite and >= 0")
    return weights


def training_and_validation(
    x, y, validation_data=None, validation_split: float = 0.0, sample_weight=None
) -> tuple[ArrayData, ArrayData | None]:
    """``fit``'s data: ``(training, validation)``, the validation part given explicitly as
    ``validation_data=(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` (which wins, as
    in Keras), else held out from the end by ``validation_split``, else ``None``."""
    validation_split = check_validation_split(validation_split)
    data = ArrayData(x, y, sample_weight)
    if validation_data is not None:
        if not isinstance(validation_data, list | tuple) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                f"sample_weight_val), received {type(validation_data).__name__}"
                + (
                    f" of length {len(validation_data)}"
                    if isinstance(validation_data, list | tuple)
                    else ""
                )
            )
        return data, ArrayData(*validation_data, what="validation ")
    if validation_split:
        return data.split(validation_split)
    return data, None


class BatchStream:
    """``fit``/``evaluate`` on batches given one by one: any iterable (a Python generator, a
    list, ``timeseries_dataset_from_array``) of ``(x, y)`` or ``(x, y, sample_weight)``.

    With ``steps`` each epoch takes that many batches from one iterator that goes on across
    epochs (an endless generator works); without, each epoch iterates the source anew, to its
    end (a generator used up after one epoch is an error naming ``steps_per_epoch``).
    """

    def __init__(self, source, steps: int | None = None, what: str = "x"):
        self.source, self.steps, self.what = source, steps, what
        self._iterator = None
        self.num_samples = None  # unknown until the data has been seen

    def num_batches(self, batch_size: int) -> int | None:
        return self.steps

    def batches(self, batch_size: int | None = None, shuffle: bool = False):
        if self.steps is None:
            return self._to_the_end()
        if self._iterator is None:
            self._iterator = iter(self.source)
        return self._take(self.steps)

    def _to_the_end(self):
        count = 0
        for item in self.source:
            count += 1
            yield _unpack_batch(item, self.what)
        if count == 0:
            raise ValueError(
                f"{self.what} yielded no batches (a generator is used up after one pass): pass "
                "steps_per_epoch with an endless generator, or a list of batches"
            )

    def _take(self, steps: int):
        for step in range(steps):
            try:
                item = next(self._iterator)
            except StopIteration:
                raise ValueError(
                    f"{self.what} ran out of batches after {step} of the {steps} steps of an epoch "
                    "(steps_per_epoch); give a generator that does not end, or fewer steps"
                ) from None
            yield _unpack_batch(item, self.what)


def is_batch_stream(x) -> bool:
    """Whether ``x`` is an iterable of batches rather than arrays (or a list/dict of arrays)."""
    if isinstance(x, np.ndarray | mg.Tensor | dict | str | bytes) or x is None:
        return False
    if isinstance(x, list | tuple):
        return bool(x) and all(isinstance(item, tuple) for item in x)
    return hasattr(x, "__iter__") or hasattr(x, "__next__")


def stream_inputs(source):
    """The inputs of each batch of an iterable given to ``predict``: a batch is ``x`` or a tuple
    ``(x, y)`` / ``(x, y, sample_weight)`` whose ``x`` is taken."""
    for item in source:
        yield item[0] if isinstance(item, tuple) else item


def _unpack_batch(item, what: str):
    if not isinstance(item, tuple | list) or len(item) not in (2, 3):
        raise ValueError(
            f"each batch of {what} must be a tuple (x, y) or (x, y, sample_weight), received "
            f"{type(item).__name__}"
            + (f" of length {len(item)}" if isinstance(item, tuple | list) else "")
        )
    x, y, sw = (*item, None) if len(item) == 2 else item
    xs = (
        [mg.tensor(np.asarray(a)) for a in x]
        if isinstance(x, list | tuple)
        else mg.tensor(np.asarray(x))
    )
    ys = [np.asarray(a) for a in y] if isinstance(y, list | tuple) else [np.asarray(y)]
    return xs, ys, None if sw is None else np.asarray(sw, dtype=np.float64)
