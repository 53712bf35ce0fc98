"""Layers that combine a list of inputs: Concatenate, Add, Multiply, Average and Dot (Keras 2
mask rules).

>>> import numpy as np, minigrad_layers as mgl
>>> a, b = np.ones((2, 3)), np.zeros((2, 4))
>>> mgl.Concatenate()([a, b]).shape, mgl.Add()([a, a]).numpy()[0]
((2, 7), array([2., 2., 2.], dtype=float32))
"""

from __future__ import annotations

import functools

import numpy as np

import minigrad as mg
from minigrad_layers.engine.functional import is_shape
from minigrad_layers.engine.layer import Layer

__all__ = ["Add", "Average", "Concatenate", "Dot", "Multiply"]


class _Merge(Layer):
    """A layer called on a list of inputs; the masks of the inputs combine into one."""

    supports_masking = True

    def _check_list(self, inputs) -> list:
        """``inputs`` (Tensors, or the shapes ``build`` receives) as a list; one input (or one
        shape) raises."""
        if is_shape(inputs) and inputs:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} must be called on a list of inputs, "
                f"received one input of shape {tuple(inputs)}"
            )
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


class _Elementwise(_Merge):
    """An elementwise merge of at least two inputs (numpy broadcasting). Mask: the logical AND
    of the inputs' masks (those that have one)."""

    def _check_pieces(self, inputs) -> list:
        inputs = self._check_list(inputs)
        if len(inputs) < 2:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} must be called on a list of at least 2 "
                f"inputs, received {len(inputs)} input"
            )
        return inputs

    def build(self, input_shape) -> None:
        shapes = self._check_pieces(input_shape)
        try:
            np.broadcast_shapes(*(tuple(1 if d is None else d for d in s) for s in shapes))
        except ValueError:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the shapes of its inputs must broadcast "
                f"together, received input shapes {[tuple(s) for s in shapes]}"
            ) from None

    def compute_mask(self, inputs, mask=None):
        masks = [np.asarray(m, dtype=bool) for m in mask or () if m is not None]
        if not masks:
            return None
        return mg.tensor(np.logical_and.reduce(np.broadcast_arrays(*masks)))


class Add(_Elementwise):
    """The elementwise sum of the inputs, ``x_1 + ... + x_n``."""

    def call(self, inputs):
        return functools.reduce(mg.add, self._check_pieces(inputs))


class Multiply(_Elementwise):
    """The elementwise product of the inputs, ``x_1 · ... · x_n``.

    >>> import minigrad_layers as mgl
    >>> mgl.Multiply()([np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])]).numpy()
    array([[3., 8.]], dtype=float32)
    """

    def call(self, inputs):
        return functools.reduce(mg.multiply, self._check_pieces(inputs))


class Average(_Elementwise):
    """The elementwise mean of the inputs, ``(x_1 + ... + x_n) / n``."""

    def call(self, inputs):
        inputs = self._check_pieces(inputs)
        return functools.reduce(mg.add, inputs) / len(inputs)


class Dot(_Merge):
    """Dot products of two batches of tensors, sample by sample (Keras' ``batch_dot``).

    ``axes`` (an int, or one per input) picks the axis of each input to contract; it may not
    be the batch axis 0, and negative axes count from the end. For inputs ``a (batch, ..., k,
    ...)`` and ``b (batch, ..., k, ...)`` the output is ``out[n, i..., j...] = Σ_k a[n, i..., k]
    b[n, j..., k]`` with the free axes of ``a`` first, then those of ``b``; two 2-D inputs give
    ``(batch, 1)``. ``normalize=True`` first divides each input by its L2 norm along its axis,
    ``x / sqrt(max(Σ x², 1e-12))``, so the outputs are cosine similarities. The output has no
    mask.

    >>> import minigrad_layers as mgl
    >>> a, b = np.ones((2, 3, 4)), np.ones((2, 5, 4))
    >>> mgl.Dot(axes=(2, 2))([a, b]).shape, mgl.Dot(axes=1)([a[:, 0], b[:, 0]]).shape
    ((2, 3, 5), (2, 1))
    """

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        pair = tuple(axes) if isinstance(axes, tuple | list) else (axes, axes)
        if len(pair) != 2 or not all(
            isinstance(a, int | np.integer) and not isinstance(a, bool) for a in pair
        ):
            raise TypeError(
                f"Dot `axes` must be an integer or a list of 2 integers, received {axes!r}"
            )
        self.axes = axes if isinstance(axes, int | np.integer) else [int(a) for a in pair]
        self.normalize = bool(normalize)

    def _axes_for(self, shapes) -> tuple[int, int]:
        """The contracted axis of each input, as non-negative numbers; checks the shapes."""
        shapes = self._check_list(shapes)
        if len(shapes) != 2:
            raise ValueError(
                f"Dot {self.name!r} must be called on a list of exactly 2 inputs, received "
                f"{len(shapes)} inputs"
            )
        pair = self.axes if isinstance(self.axes, list) else (self.axes, self.axes)
        found = []
        for shape, axis in zip(shapes, pair, strict=True):
            if len(shape) < 2 or not -len(shape) < axis < len(shape) or axis % len(shape) == 0:
                raise ValueError(
                    f"Dot {self.name!r}: axis {axis} must name a non-batch axis of each input "
                    f"(rank >= 2), received input shapes {[tuple(s) for s in shapes]}"
                )
            found.append(axis % len(shape))
        first, second = (s[a] for s, a in zip(shapes, found, strict=True))
        if None not in (first, second) and first != second:
            raise ValueError(
                f"Dot {self.name!r}: dimension incompatibility {first} != {second}; input shapes "
                f"{[tuple(s) for s in shapes]}, chosen axes {tuple(found)}"
            )
        return found[0], found[1]

    def build(self, input_shape) -> None:
        self._axes_for(input_shape)

    def call(self, inputs):
        axis_a, axis_b = self._axes_for([x.shape for x in self._check_list(inputs)])
        a, b = inputs
        if self.normalize:
            a, b = _l2_normalize(a, axis_a), _l2_normalize(b, axis_b)
        # a -> (batch, free_a, k), b -> (batch, k, free_b), one batched matrix product.
        free_a = [d for i, d in enumerate(a.shape) if i not in (0, axis_a)]
        free_b = [d for i, d in enumerate(b.shape) if i not in (0, axis_b)]
        a = mg.transpose(a, (0, *(i for i in range(1, a.ndim) if i != axis_a), axis_a))
        b = mg.transpose(b, (0, axis_b, *(i for i in range(1, b.ndim) if i != axis_b)))
        k = a.shape[-1]
        product = mg.matmul(mg.reshape(a, (a.shape[0], -1, k)), mg.reshape(b, (b.shape[0], k, -1)))
        free = (*free_a, *free_b) if free_a or free_b else (1,)
        return mg.reshape(product, (product.shape[0], *free))

    def compute_output_shape(self, input_shape):
        axis_a, axis_b = self._axes_for(input_shape)
        shape_a, shape_b = (tuple(s) for s in input_shape)
        free = [d for i, d in enumerate(shape_a) if i not in (0, axis_a)]
        free += [d for i, d in enumerate(shape_b) if i not in (0, axis_b)]
        return (shape_a[0], *free) if free else (shape_a[0], 1)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x, axis: int):
    """``x / sqrt(max(Σ_axis x², 1e-12))``, as ``tf.math.l2_normalize``."""
    return x / mg.sqrt(mg.maximum(mg.sum(x * x, axis=axis, keepdims=True), 1e-12))
