"""``Input``: the symbolic input of a functional Model, made by an :class:`InputLayer`.

>>> import minigrad_layers as mgl
>>> x = mgl.Input((None, 5))
>>> x.shape, x.dtype
((None, None, 5), 'float32')
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.dtypes import as_dtype
from minigrad_layers.engine import naming
from minigrad_layers.engine.functional import Node, SymbolicTensor
from minigrad_layers.engine.layer import Layer

__all__ = ["Input", "InputLayer"]


class InputLayer(Layer):
    """The layer behind an :func:`Input`: it has no weights and one node without inputs."""

    def __init__(self, batch_shape: tuple, dtype=None, name: str | None = None):
        super().__init__(name=name or naming.unique_name("input", zero_based=False), dtype=dtype)
        self.built = True
        self._batch_input_shape = tuple(batch_shape)
        Node(self, (), {}, SymbolicTensor(batch_shape, self.dtype, self.name))

    @property
    def input(self):
        """An input layer's input is its output, the placeholder (as in Keras)."""
        return self.output

    def get_config(self) -> dict:
        return {"batch_shape": self._batch_input_shape, "dtype": self.dtype, "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        """Keras 3's options for sparse, ragged and optional inputs must be off."""
        config = dict(config)
        for key in ("sparse", "ragged", "optional"):
            if config.pop(key, False):
                raise ValueError(
                    f"InputLayer {config.get('name')!r}: {key} inputs are not supported"
                )
        return cls(**config)


def _check_dims(shape: tuple) -> tuple:
    for d in shape:
        if d is not None and (isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 0):
            raise ValueError(
                f"Input shape dimensions must be non-negative ints or None, received {shape}"
            )
    return tuple(None if d is None else int(d) for d in shape)


def Input(  # noqa: N802  (Keras' name)
    shape=None,
    batch_size: int | None = None,
    dtype=None,
    name: str | None = None,
    batch_shape=None,
) -> SymbolicTensor:
    """A symbolic input for a functional Model: ``shape`` excludes the batch dimension
    (``batch_size``, default unknown), or ``batch_shape`` includes it. ``dtype`` defaults to
    ``mg.floatx()``; use an integer dtype for token ids if you like (Embedding accepts both).

    >>> Input((10,), batch_size=4, dtype="int64").shape
    (4, 10)
    """
    if batch_shape is None:
        if shape is None:
            raise ValueError(
                "Input needs `shape` (the per-sample shape, without the batch dimension) or "
                "`batch_shape`; received neither"
            )
        shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
        batch_shape = (batch_size, *shape)
    elif shape is not None or batch_size is not None:
        raise ValueError(
            f"Input takes either `shape` (with `batch_size`) or `batch_shape`, received "
            f"shape={shape}, batch_size={batch_size}, batch_shape={batch_shape}"
        )
    dtype = mg.floatx() if dtype is None else as_dtype(dtype).name
    return InputLayer(_check_dims(tuple(batch_shape)), dtype=dtype, name=name).output
