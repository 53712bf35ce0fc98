"""Weight regularizers (Keras semantics): a penalty on a weight added to the training loss.

``Dense(4, kernel_regularizer="l2")`` makes ``dense.losses`` hold ``0.01 * sum(kernel ** 2)``,
recomputed from the current weight each time ``losses`` is read (inside the training step's
tape, so the penalty's gradient reaches the weight); ``fit`` adds ``sum(model.losses)`` to the
loss. ``activity_regularizer`` penalizes a layer's output instead, once per call.

* ``L1(l1=0.01)``: ``l1 * sum(|w|)``;  ``L2(l2=0.01)``: ``l2 * sum(w ** 2)``;
* ``L1L2(l1=0.0, l2=0.0)``: both; the name ``"l1_l2"`` gives ``L1L2(0.01, 0.01)``.

>>> import numpy as np, minigrad as mg
>>> float(L2(0.5)(mg.tensor(np.array([1.0, -2.0]))))
2.5
"""

from __future__ import annotations

import math

import minigrad as mg

__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "serialize"]


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar Tensor``; ``get_config``/``from_config``."""

    def __call__(self, x: mg.Tensor) -> mg.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(x)")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _factor(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(
            f"The regularization factor {name} must be a finite number, received {value!r}"
        )
    if value < 0:
        raise ValueError(f"The regularization factor {name} must be >= 0, received {value}")
    return float(value)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _factor("l1", l1), _factor("l2", l2)

    def __call__(self, x):
        total = None
        if self.l1:
            total = self.l1 * mg.sum(mg.abs(x))
        if self.l2:
            term = self.l2 * mg.sum(x * x)
            total = term if total is None else total + term
        return mg.zeros((), dtype=x.dtype) if total is None else total

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x ** 2)``."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": lambda: L1L2(0.01, 0.01)}
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier) -> Regularizer | None:
    """A regularizer from a name (``"l1"``, ``"l2"``, ``"l1_l2"``, a class name), a config dict
    ``{"class_name": ..., "config": ...}``, an instance, or a callable ``f(weight)``."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        make = _BY_NAME.get(identifier.lower()) or _CLASSES.get(identifier)
        if make is not None:
            return make()
    elif isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config", {}))
    elif callable(identifier):
        return identifier
    raise ValueError(
        f"Unknown regularizer {identifier!r}: expected one of {sorted(_BY_NAME)}, "
        f"{sorted(_CLASSES)}, a Regularizer instance or a function f(weight)"
    )


def serialize(regularizer) -> dict | None:
    """``{"class_name", "config"}`` of a built-in regularizer (None for None)."""
    if regularizer is None:
        return None
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
