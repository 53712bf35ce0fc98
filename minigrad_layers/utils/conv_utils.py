"""Checks of the arguments that convolution, pooling and reshaping layers share, and the
lengths of sliding windows (Keras' ``conv_utils``).

>>> normalize_data_format(None), normalize_padding("SAME"), normalize_positive_int(3, "strides")
('channels_last', 'same', 3)
>>> conv_output_length(10, 3, "valid", 2), padding_amounts(10, 3, "same", 2)
(4, (0, 1))
"""

import numpy as np

__all__ = [
    "conv_output_length",
    "normalize_data_format",
    "normalize_padding",
    "normalize_positive_int",
    "padding_amounts",
]

_DATA_FORMATS = ("channels_last", "channels_first")
_PADDINGS = ("valid", "same")


def normalize_data_format(value) -> str:
    """``"channels_last"`` (features on the last axis; the default, ``None``) or
    ``"channels_first"`` (features on axis 1)."""
    if value is None:
        return "channels_last"
    normalized = value.lower() if isinstance(value, str) else value
    if normalized not in _DATA_FORMATS:
        raise ValueError(
            f"The `data_format` argument must be one of {_DATA_FORMATS} (or None), received "
            f"{value!r}"
        )
    return normalized


def normalize_padding(value, allow_causal: bool = False) -> str:
    """``"valid"`` (no padding) or ``"same"`` (output length ``ceil(length / strides)``), and
    with ``allow_causal`` also ``"causal"`` (zeros on the left only, so that output step ``t``
    sees no input after ``t``)."""
    allowed = (*_PADDINGS, "causal") if allow_causal else _PADDINGS
    normalized = value.lower() if isinstance(value, str) else value
    if normalized not in allowed:
        raise ValueError(f"The `padding` argument must be one of {allowed}, received {value!r}")
    return normalized


def normalize_positive_int(value, name: str) -> int:
    """``value`` as an int, which must be positive; a 1-tuple ``(n,)`` counts as ``n``."""
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, received {value!r}")
    return int(value)


def conv_output_length(length, window: int, padding: str, stride: int, dilation: int = 1):
    """The number of windows of ``window`` taps, ``dilation`` apart, that slide over ``length``
    steps by ``stride`` (None stays None). With the dilated window ``w = (window - 1) ·
    dilation + 1``: ``"valid"`` gives ``ceil((length - w + 1) / stride)``, ``"same"`` and
    ``"causal"`` give ``ceil(length / stride)``; never below 0."""
    if length is None:
        return None
    dilated = (window - 1) * dilation + 1
    covered = length - dilated + 1 if padding == "valid" else length
    return max(0, (covered + stride - 1) // stride)


def padding_amounts(length: int, window: int, padding: str, stride: int, dilation: int = 1):
    """``(left, right)``: the padding steps added around ``length`` steps so that the windows
    of :func:`conv_output_length` fit exactly. ``"same"`` splits the total as TensorFlow does
    (the extra step on the right), ``"causal"`` puts ``(window - 1) · dilation`` on the left."""
    dilated = (window - 1) * dilation + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return dilated - 1, 0
    output = conv_output_length(length, window, padding, stride, dilation)
    total = max((output - 1) * stride + dilated - length, 0)
    return total // 2, total - total // 2
