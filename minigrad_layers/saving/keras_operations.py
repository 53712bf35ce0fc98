"""The Keras 3 operations a functional ``.keras`` config may hold between its layers.

Keras 3 records a mask it computed outside a layer as operation nodes among the layers: a
functional ``Embedding(mask_zero=True)`` feeding an ``LSTM`` is saved as::

    {"module": "keras.src.ops.numpy", "class_name": "NotEqual", "config": {"name": ...},
     "inbound_nodes": [{"args": [<the ids>, 0], "kwargs": {}}]}

and the LSTM's node passes ``mask=<its output>``. ``Masking`` adds ``Any(axis=-1)`` after its
``NotEqual``, attention layers a ``ConvertToTensor``. Each is read as a small layer without
weights that computes the same values (masks are never differentiated)::

    NotEqual()(x, value)           = x != value                    (bool, broadcast shapes)
    Any(axis, keepdims)(x)         = any of x along axis           (bool)
    ConvertToTensor(dtype)(x)      = x, cast to dtype when given

Any other operation class is a ``ValueError`` naming it (see :func:`operation`). Saved again,
they are written as Keras writes them.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers.engine.layer import Layer

__all__ = ["OPERATIONS", "operation"]


class _Operation(Layer):
    """A Keras operation as a layer: no weights, no mask, no cast of its inputs; its config is
    the operation's own (Keras rebuilds an operation from its arguments and ``name`` only)."""

    _autocast = False
    _arguments: tuple[str, ...] = ()

    def get_config(self) -> dict:
        return {"name": self.name, **{key: getattr(self, key) for key in self._arguments}}

    def get_build_config(self):
        return None

    def compute_mask(self, inputs, mask=None):
        return None


class NotEqual(_Operation):
    """``x1 != x2`` elementwise (``keras.ops.not_equal``), a bool tensor."""

    def call(self, x1, x2):
        return mg.not_equal(x1, x2)


class Any(_Operation):
    """Whether any element along ``axis`` is true (``keras.ops.any``), a bool tensor."""

    _arguments = ("axis", "keepdims")

    def __init__(self, axis=None, keepdims=False, name=None):
        super().__init__(name=name)
        self.axis, self.keepdims = axis, keepdims

    def call(self, x):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        return mg.tensor(np.any(x.numpy(), axis=axis, keepdims=self.keepdims))


class ConvertToTensor(_Operation):
    """Its input as a tensor (``keras.ops.convert_to_tensor``), cast to ``dtype`` if given."""

    def __init__(self, dtype=None, sparse=None, ragged=None, name=None):
        if sparse or ragged:
            raise ValueError(
                f"ConvertToTensor {name!r}: sparse and ragged tensors are not supported, "
                f"received sparse={sparse!r}, ragged={ragged!r}"
            )
        super().__init__(name=name)
        self.target_dtype, self.sparse, self.ragged = dtype, sparse, ragged

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.target_dtype, "sparse": None, "ragged": None}

    def call(self, x):
        return x if self.target_dtype is None else mg.cast(x, self.target_dtype)


# (Keras 3 module, class name) -> the layer computing it
OPERATIONS = {
    ("keras.src.ops.numpy", "NotEqual"): NotEqual,
    ("keras.src.ops.numpy", "Any"): Any,
    ("keras.src.ops.core", "ConvertToTensor"): ConvertToTensor,
}


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
