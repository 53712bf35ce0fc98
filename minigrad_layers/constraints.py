"""Weight constraints (Keras semantics): after every optimizer step a constrained weight is
replaced by ``constraint(weight)``, a projection back into the allowed set.

* ``MaxNorm(max_value=2, axis=0)``: columns (norms over ``axis``) longer than ``max_value``
  are scaled down to it; ``UnitNorm(axis=0)``: every column scaled to norm 1;
* ``MinMaxNorm(min_value=0, max_value=1, rate=1, axis=0)``: norms moved into the range, by
  ``rate`` of the way; ``NonNeg()``: negative entries set to 0.

>>> import numpy as np
>>> MaxNorm(1.0)(np.array([[3.0], [4.0]])).ravel().round(6).tolist()
[0.6, 0.8]
"""

from __future__ import annotations

import numpy as np

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "get", "serialize"]

_EPSILON = 1e-7


class Constraint:
    """Base class: ``constraint(w) -> w'`` on numpy arrays; ``get_config``/``from_config``."""

    def __call__(self, w: np.ndarray) -> np.ndarray:
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _norms(w: np.ndarray, axis) -> np.ndarray:
    return np.sqrt(np.sum(w * w, axis=axis, keepdims=True))


class MaxNorm(Constraint):
    def __init__(self, max_value=2.0, axis=0):
        self.max_value, self.axis = float(max_value), axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        return w * (np.clip(norms, 0, self.max_value) / (_EPSILON + norms))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return w * (w >= 0)


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        if min_value > max_value:
            raise ValueError(
                f"MinMaxNorm needs min_value <= max_value, received {min_value} > {max_value}"
            )
        self.min_value, self.max_value = float(min_value), float(max_value)
        self.rate, self.axis = float(rate), axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value)
        desired = desired + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


_CLASSES = {"MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm}
_BY_NAME = {
    "max_norm": MaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
    "min_max_norm": MinMaxNorm,
}


def get(identifier) -> Constraint | None:
    """A constraint from a name (``"max_norm"``, ``"non_neg"``, ``"unit_norm"``,
    ``"min_max_norm"``, a class name), a config dict, an instance or a callable ``f(w)``."""
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower()) or _CLASSES.get(identifier)
        if cls is not None:
            return cls()
    elif isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config", {}))
    elif callable(identifier):
        return identifier
    raise ValueError(
        f"Unknown constraint {identifier!r}: expected one of {sorted(_BY_NAME)}, "
        f"{sorted(_CLASSES)}, a Constraint instance or a function f(w)"
    )


def serialize(constraint) -> dict | None:
    if constraint is None:
        return None
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}
