"""Checks of the arguments that pooling and reshaping layers share (Keras' ``conv_utils``).

>>> normalize_data_format(None), normalize_padding("SAME"), normalize_positive_int(3, "strides")
('channels_last', 'same', 3)
"""

import numpy as np

__all__ = ["normalize_data_format", "normalize_padding", "normalize_positive_int"]

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


def normalize_padding(value) -> str:
    """``"valid"`` (no padding) or ``"same"`` (output length ``ceil(length / strides)``)."""
    normalized = value.lower() if isinstance(value, str) else value
    if normalized not in _PADDINGS:
        raise ValueError(f"The `padding` argument must be one of {_PADDINGS}, received {value!r}")
    return normalized


def normalize_positive_int(value, name: str) -> int:
    """``value`` as an int, which must be positive; a 1-tuple ``(n,)`` counts as ``n``."""
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, received {value!r}")
    return int(value)
