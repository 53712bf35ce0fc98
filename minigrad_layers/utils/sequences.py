"""``pad_sequences``: a list of variable-length sequences to one ``(samples, maxlen, ...)`` array,
as ``keras.utils.pad_sequences``. With ``value=0`` and ``Embedding(mask_zero=True)`` the padding
becomes the mask.

``[[1, 2, 3], [4, 5]]`` with ``maxlen=4``::

    padding="pre"   [[0, 1, 2, 3],        padding="post"   [[1, 2, 3, 0],
                     [0, 0, 4, 5]]                          [4, 5, 0, 0]]

``maxlen=2`` cuts longer sequences: ``truncating="pre"`` keeps the last steps (``[2, 3]``),
``"post"`` the first (``[1, 2]``).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["pad_sequences"]

_SIDES = ("pre", "post")


def pad_sequences(
    sequences,
    maxlen: int | None = None,
    dtype="int32",
    padding: str = "pre",
    truncating: str = "pre",
    value=0.0,
) -> np.ndarray:
    """Pad (or cut) every sequence to ``maxlen`` steps (default: the longest).

    Each sequence is a list or array of steps; its steps may be scalars or arrays of one shape
    (the ``...`` of the result). Returns ``(len(sequences), maxlen, ...)`` of ``dtype``.
    """
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in _SIDES:
            raise ValueError(f'{name} must be "pre" or "post", received {side!r}')
    if not hasattr(sequences, "__len__"):
        raise TypeError(f"pad_sequences expects a list of sequences, received {sequences!r}")
    rows = []
    for index, sequence in enumerate(sequences):
        if not hasattr(sequence, "__len__"):
            raise TypeError(
                f"pad_sequences: sequence {index} must be a list or array of steps, "
                f"received {sequence!r}"
            )
        rows.append(np.asarray(sequence))
    if maxlen is None:
        maxlen = max((len(row) for row in rows), default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, numbers.Integral) or maxlen < 0:
        raise ValueError(f"maxlen must be None or an int >= 0, received {maxlen!r}")
    step_shape = next((row.shape[1:] for row in rows if len(row)), ())
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.dtype(dtype) == object
    if isinstance(value, str) and not is_text:
        raise ValueError(
            f"pad_sequences: value {value!r} is a string but dtype is {dtype}; "
            'use dtype=object or dtype="str" for text'
        )
    padded = np.full((len(rows), maxlen, *step_shape), value, dtype=dtype)
    for index, row in enumerate(rows):
        if not len(row) or not maxlen:
            continue
        kept = row[-maxlen:] if truncating == "pre" else row[:maxlen]
        if kept.shape[1:] != step_shape:
            raise ValueError(
                f"pad_sequences: the steps of sequence {index} have shape {kept.shape[1:]}, "
                f"expected {step_shape} as in the first non-empty sequence"
            )
        if padding == "post":
            padded[index, : len(kept)] = kept
        else:
            padded[index, maxlen - len(kept) :] = kept
    return padded
