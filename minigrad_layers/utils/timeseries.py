"""``timeseries_dataset_from_array``: sliding windows over a series, in batches that ``fit``,
``evaluate`` and ``predict`` take directly (Keras returns a ``tf.data.Dataset``; this returns a
re-iterable of numpy batches with the same contents).

Window ``i`` starts at ``start = start_index + i * sequence_stride`` and holds the samples
``data[start], data[start + r], ..., data[start + (L - 1) r]`` (``L = sequence_length``,
``r = sampling_rate``); its target is ``targets[start]``. The number of windows is
``min(end - start_index - (L - 1) r, len(targets)) / sequence_stride`` rounded up.

With ``data = range(10)``, ``targets = data[3:]``, ``L = 3``: windows ``[0 1 2] → 3``,
``[1 2 3] → 4``, ...: each window predicts the step after it.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["TimeseriesBatches", "timeseries_dataset_from_array"]


def _positive_int(name: str, value, limit: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive int, received {value!r}")
    if limit is not None and value >= limit:
        raise ValueError(
            f"{name} must be lower than the length of the data ({limit}), received {value}"
        )
    return int(value)


class TimeseriesBatches:
    """The windows of :func:`timeseries_dataset_from_array`, batch by batch: each pass yields
    ``(x, y)`` (or ``x`` without targets) with ``x`` of shape ``(batch, sequence_length, ...)``;
    with ``shuffle`` each pass draws a new order from a generator seeded by ``seed``."""

    def __init__(
        self, data, targets, starts, sequence_length, sampling_rate, batch_size, shuffle, seed
    ):
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size, self.shuffle = batch_size, shuffle
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.starts) // self.batch_size)

    def __iter__(self):
        starts = self._rng.permutation(self.starts) if self.shuffle else self.starts
        for first in range(0, len(starts), self.batch_size):
            chosen = starts[first : first + self.batch_size]
            windows = self.data[chosen[:, None] + self.offsets]
            yield windows if self.targets is None else (windows, self.targets[chosen])


def timeseries_dataset_from_array(
    data,
    targets,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
) -> TimeseriesBatches:
    """Windows of ``data`` (``(steps, ...)``) with their ``targets`` (``(steps, ...)`` or None),
    as ``keras.utils.timeseries_dataset_from_array``; ``batch_size=None`` gives one window a
    batch (Keras then yields unbatched windows; here they keep a batch axis of 1)."""
    data = np.asarray(data)
    if data.ndim < 1:
        raise ValueError(f"data must have a time axis, received a scalar of shape {data.shape}")
    length = len(data)
    sequence_length = _positive_int("sequence_length", sequence_length)
    sequence_stride = _positive_int("sequence_stride", sequence_stride, length)
    sampling_rate = _positive_int("sampling_rate", sampling_rate, length)
    start = 0 if start_index is None else int(start_index)
    end = length if end_index is None else int(end_index)
    if not 0 <= start < length:
        raise ValueError(f"start_index must be in [0, {length}), received {start_index}")
    if not start < end <= length:
        raise ValueError(
            f"end_index must be in ({start}, {length}] (after start_index, within the data), "
            f"received {end_index}"
        )
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        count = min(count, len(targets) - start)
    if count <= 0:
        raise ValueError(
            f"no window of sequence_length={sequence_length} and sampling_rate={sampling_rate} "
            f"fits in data[{start}:{end}] ({end - start} steps)"
        )
    batch_size = 1 if batch_size is None else _positive_int("batch_size", batch_size)
    starts = start + np.arange(0, count, sequence_stride)
    return TimeseriesBatches(
        data, targets, starts, sequence_length, sampling_rate, batch_size, shuffle, seed
    )
