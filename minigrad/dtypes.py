"""Float dtypes: float32 by default (like Keras), float64 on request.

>>> import minigrad as mg
>>> mg.floatx()
'float32'
"""

import numpy as np

_FLOAT_DTYPES = {"float32": np.dtype("float32"), "float64": np.dtype("float64")}
_floatx = "float32"


def floatx() -> str:
    """The default float dtype's name (``"float32"`` unless changed by :func:`set_floatx`)."""
    return _floatx


def set_floatx(name: str) -> None:
    """Set the default float dtype: ``"float32"`` or ``"float64"``.

    >>> mg.set_floatx("float64"); mg.set_floatx("float32")
    """
    global _floatx
    if name not in _FLOAT_DTYPES:
        raise ValueError(f"set_floatx expects one of {sorted(_FLOAT_DTYPES)}, received {name!r}")
    _floatx = name


def as_dtype(dtype) -> np.dtype:
    """Resolve a dtype given as a name (``"float32"``) or a numpy dtype; ``None`` means floatx."""
    if dtype is None:
        return _FLOAT_DTYPES[_floatx]
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"Unknown dtype {dtype!r}: expected a name such as 'float32', 'float64', "
            "'int64', 'bool', or a numpy dtype"
        ) from None


def is_float(dtype: np.dtype) -> bool:
    """True for floating dtypes (float16/32/64)."""
    return dtype.kind == "f"
