"""Layers that combine a list of inputs: Concatenate and Add (Keras 2 mask rules).

>>> import numpy as np, minigrad_layers as mgl
>>> a, b = np.ones((2, 3)), np.zeros((2, 4))
>>> mgl.Concatenate()([a, b]).shape, mgl.Add()([a, a]).numpy()[0]
((2, 7), array([2., 2., 2.], dtype=float32))
"""

from __future__ import annotations

import functools

import numpy as np

import minigrad as mg
from minigrad_layers.engine.layer import Layer

__all__ = ["Add", "Concatenate"]


class _Merge(Layer):
    """A layer called on a list of inputs; the masks of the inputs combine into one."""

    supports_masking = True

    def _check_list(self, inputs) -> list:
        if not isinstance(inputs, list | tuple) or not inputs:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} must be called on a list of inputs, "
                f"received {type(inputs).__name__}"
            )
        return list(inputs)

    def build(self, input_shape) -> None:
        self._check_list(input_shape)


class Concatenate(_Merge):
    """Joins the inputs along ``axis`` (default the last).

    Mask (Keras 2): each input's mask (all True when it has none, broadcast to the input's
    shape) is concatenated like the inputs, then reduced with ``all`` over the last axis; for
    ``axis=-1`` that is the logical AND of the masks.
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        return mg.concat(self._check_list(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask, strict=True):
            if m is None:
                full.append(np.ones(x.shape, dtype=bool))
                continue
            m = np.asarray(m, dtype=bool)
            if m.ndim < x.ndim:
                m = m[..., None]
            full.append(np.broadcast_to(m, x.shape))
        return mg.tensor(np.concatenate(full, axis=self.axis).all(axis=-1))

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Add(_Merge):
    """The elementwise sum of the inputs (numpy broadcasting). Mask: the logical AND of the
    inputs' masks (those that have one)."""

    def call(self, inputs):
        return functools.reduce(mg.add, self._check_list(inputs))

    def compute_mask(self, inputs, mask=None):
        masks = [np.asarray(m, dtype=bool) for m in mask or () if m is not None]
        if not masks:
            return None
        return mg.tensor(np.logical_and.reduce(np.broadcast_arrays(*masks)))
