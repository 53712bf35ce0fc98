"""Activation functions by Keras name, written with minigrad ops (so tapes differentiate them).

>>> import minigrad as mg
>>> from minigrad_layers import activations
>>> activations.get("hard_sigmoid")(mg.tensor([-5.0, 0.0, 1.0])).numpy()
array([0. , 0.5, 0.7], dtype=float32)
>>> activations.get(None) is activations.linear
True
"""

from __future__ import annotations

import minigrad as mg

__all__ = ["get", "hard_sigmoid", "linear", "relu", "serialize", "sigmoid", "softmax", "tanh"]


def _tensor(x) -> mg.Tensor:
    return x if isinstance(x, mg.Tensor) else mg.tensor(x)


def linear(x):
    """The identity: ``x`` unchanged."""
    return _tensor(x)


def tanh(x):
    """Hyperbolic tangent."""
    return mg.tanh(x)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``."""
    return mg.sigmoid(x)


def hard_sigmoid(x):
    """Keras 2's piecewise-linear sigmoid: ``clip(0.2 x + 0.5, 0, 1)``."""
    return mg.clip(_tensor(x) * 0.2 + 0.5, 0.0, 1.0)


def relu(x):
    """``max(x, 0)``."""
    return mg.relu(x)


def softmax(x, axis: int = -1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (the last by default), computed stably."""
    return mg.softmax(x, axis=axis)


_BY_NAME = {fn.__name__: fn for fn in (linear, tanh, sigmoid, hard_sigmoid, relu, softmax)}


def get(identifier):
    """An activation from its name, a callable (returned as is), or ``None`` (``linear``).

    >>> get("relu") is relu, get(abs) is abs
    (True, True)
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(
                f"Unknown activation {identifier!r}. Allowed names: {', '.join(sorted(_BY_NAME))}; "
                "or pass a callable that maps a Tensor to a Tensor"
            )
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret activation {identifier!r} (of type {type(identifier).__name__}): "
        f"pass one of {sorted(_BY_NAME)} or a callable"
    )


def serialize(activation):
    """The name of a built-in activation (``serialize(tanh) == "tanh"``); anything else is
    returned unchanged, so a config holding it still round-trips through :func:`get`."""
    if _BY_NAME.get(getattr(activation, "__name__", None)) is activation:
        return activation.__name__
    return activation
