"""The Keras 3 operations a functional ``.keras`` config may hold between its layers.

Keras 3 records a mask it computed outside a layer as operation nodes among the layers: a
functional ``Embedding(mask_zero=True)`` feeding an ``LSTM`` is saved as::

    {"module": "keras.src.ops.numpy", "class_name": "NotEqual", "config": {"name": ...},
     "inbound_nodes": [{"args": [<the ids>, 0], "kwargs": {}}]}

and the LSTM's node passes ``mask=<its output>``. ``Masking`` adds ``Any(axis=-1)`` after its
``NotEqual``, the merge layers ``LogicalOr`` (``Concatenate`` also ``ExpandDims``,
``ZerosLike``, ``OnesLike``, the operation ``Concatenate`` and ``Any``), the attention layers
``ConvertToTensor``: the ``compute_mask`` methods of ``keras.layers``. Each is read as a small
layer without weights that computes the same values with numpy (masks are never
differentiated)::

    NotEqual()(x1, x2)          x1 != x2            LogicalOr()(x1, x2)     x1 | x2
    Any(axis, keepdims)(x)      any along axis      ExpandDims(axis)(x)     a new axis of size 1
    ZerosLike(dtype)(x)         zeros of x's shape  OnesLike(dtype)(x)      ones of x's shape
    Concatenate(axis)([x, ...]) joined along axis   ConvertToTensor(dtype)(x)  x (cast to dtype)

Any other operation class is a ``ValueError`` naming it (see :func:`operation`). Saved again,
they are written as Keras writes them.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers.engine.layer import Layer

__all__ = ["OPERATIONS", "operation"]


def _values(x) -> np.ndarray:
    return x.numpy() if isinstance(x, mg.Tensor) else np.asarray(x)


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


class _Operation(Layer):
    """A Keras operation as a layer: no weights, no mask, no cast of its inputs. ``arguments``
    are the operation's own (Keras rebuilds one from them and ``name`` only), ``compute`` its
    numpy function of the input values."""

    _autocast = False

    def __init__(self, name=None, **arguments):
        super().__init__(name=name)
        self.arguments = arguments

    def get_config(self) -> dict:
        return {"name": self.name, **self.arguments}

    def get_build_config(self):
        return None

    def compute_mask(self, inputs, mask=None):
        return None

    def call(self, inputs, *args):
        if isinstance(inputs, list | tuple):
            inputs = [_values(x) for x in inputs]
        else:
            inputs = _values(inputs)
        return mg.tensor(self.compute(inputs, *[_values(a) for a in args], **self.arguments))


class NotEqual(_Operation):
    compute = staticmethod(np.not_equal)


class LogicalOr(_Operation):
    compute = staticmethod(np.logical_or)


class Any(_Operation):
    def __init__(self, axis=None, keepdims=False, name=None):
        super().__init__(name=name, axis=axis, keepdims=keepdims)

    @staticmethod
    def compute(x, axis, keepdims):
        return np.any(x, axis=_axis(axis), keepdims=keepdims)


class ExpandDims(_Operation):
    def __init__(self, axis, name=None):
        super().__init__(name=name, axis=axis)

    @staticmethod
    def compute(x, axis):
        return np.expand_dims(x, _axis(axis))


class ZerosLike(_Operation):
    def __init__(self, dtype=None, name=None):
        super().__init__(name=name, dtype=dtype)

    compute = staticmethod(np.zeros_like)


class OnesLike(_Operation):
    def __init__(self, dtype=None, name=None):
        super().__init__(name=name, dtype=dtype)

    compute = staticmethod(np.ones_like)


class Concatenate(_Operation):
    def __init__(self, axis=0, name=None):
        super().__init__(name=name, axis=axis)

    compute = staticmethod(np.concatenate)


class ConvertToTensor(_Operation):
    def __init__(self, dtype=None, sparse=None, ragged=None, name=None):
        if sparse or ragged:
            raise ValueError(
                f"ConvertToTensor {name!r}: sparse and ragged tensors are not supported, "
                f"received sparse={sparse!r}, ragged={ragged!r}"
            )
        super().__init__(name=name, dtype=dtype, sparse=sparse, ragged=ragged)

    @staticmethod
    def compute(x, dtype, sparse, ragged):
        return x if dtype is None else x.astype(dtype)


# (Keras 3 module, class name) -> the layer computing it
OPERATIONS = {
    ("keras.src.ops.numpy", cls.__name__): cls
    for cls in (NotEqual, LogicalOr, Any, ExpandDims, ZerosLike, OnesLike, Concatenate)
}
OPERATIONS["keras.src.ops.core", "ConvertToTensor"] = ConvertToTensor


def operation(module: str, name: str):
    """The layer computing the Keras operation ``module.name``; a ValueError if there is none."""
    found = OPERATIONS.get((module, name))
    if found is None:
        known = ", ".join(sorted(n for _, n in OPERATIONS))
        raise ValueError(
            f"The model config holds the Keras operation {name!r} (module {module!r}), which "
            f"minigrad_layers cannot read: the operations it reads are {known}"
        )
    return found
