"""Layers that only move values around: RepeatVector, Flatten, Reshape and Permute.

Their gradients are those of the ops they use (stack, reshape, transpose). As in tf.keras 2 none
of them supports masking: an input mask stops here.

>>> import numpy as np, minigrad_layers as mgl
>>> x = np.arange(6.0).reshape(1, 2, 3)
>>> mgl.Flatten()(x).shape, mgl.Reshape((3, 2))(x).shape, mgl.Permute((2, 1))(x).shape
((1, 6), (1, 3, 2), (1, 3, 2))
>>> mgl.RepeatVector(4)(np.ones((2, 3))).shape
(2, 4, 3)
"""

from __future__ import annotations

import math

import numpy as np

import minigrad as mg
from minigrad_layers.engine.layer import Layer
from minigrad_layers.utils.conv_utils import normalize_data_format, normalize_positive_int

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]


def _check_rank(layer, input_shape, expected: str, ok: bool) -> None:
    if not ok:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects {expected}, received input shape "
            f"{tuple(input_shape)}"
        )


class RepeatVector(Layer):
    """``(batch, features) -> (batch, n, features)``: the input repeated ``n`` times on a new
    axis 1 (``out[:, t] = x`` for every ``t``); its gradient is the sum over that axis.

    >>> import minigrad_layers as mgl
    >>> mgl.RepeatVector(2)(np.array([[1.0, 2.0]])).numpy()
    array([[[1., 2.],
            [1., 2.]]], dtype=float32)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = normalize_positive_int(n, "n")

    def build(self, input_shape) -> None:
        _check_rank(
            self, input_shape, "an input of rank 2 (batch, features)", len(input_shape) == 2
        )

    def call(self, inputs):
        return mg.stack([inputs] * self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}


class Flatten(Layer):
    """``(batch, d1, ..., dk) -> (batch, d1 · ... · dk)`` in row-major order; a rank-1 input
    becomes ``(batch, 1)``.

    ``data_format="channels_first"`` moves axis 1 (the channels) last before flattening, so the
    order of the outputs matches a channels-last model's (Keras' reason for the argument).
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim >= 3:
            inputs = mg.transpose(inputs, (0, *range(2, inputs.ndim), 1))
        return mg.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape[1:])
        return (input_shape[0], None if None in rest else math.prod(rest))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """``(batch, ...) -> (batch, *target_shape)``, row-major like ``numpy.reshape``.

    ``target_shape`` excludes the batch axis; one of its entries may be ``-1``, inferred from the
    input's size.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(target_shape, tuple | list) or not all(
            isinstance(d, int | np.integer) and not isinstance(d, bool) and (d > 0 or d == -1)
            for d in target_shape
        ):
            raise ValueError(
                "`target_shape` must be a tuple of positive integers (one of them may be -1), "
                f"received {target_shape!r}"
            )
        if list(target_shape).count(-1) > 1:
            raise ValueError(
                "There must be at most one unknown dimension (-1) in `target_shape`, received "
                f"{tuple(target_shape)}"
            )
        self.target_shape = tuple(int(d) for d in target_shape)

    def _resolved(self, input_shape) -> tuple:
        """``target_shape`` with its -1 replaced by the size that keeps the element count (left
        at None when the input's size is unknown); raises when the sizes cannot match."""
        size = math.prod(input_shape[1:]) if None not in input_shape[1:] else None
        known = math.prod(d for d in self.target_shape if d != -1)
        fits = size is None or (size % known == 0 if -1 in self.target_shape else size == known)
        if not fits:
            raise ValueError(
                f"Reshape {self.name!r}: the total size must be unchanged, but an input of shape "
                f"{tuple(input_shape)} ({size} values per sample) cannot be reshaped to "
                f"target_shape {self.target_shape}"
            )
        missing = None if size is None else size // known
        return tuple(missing if d == -1 else d for d in self.target_shape)

    def build(self, input_shape) -> None:
        self._resolved(input_shape)

    def call(self, inputs):
        return mg.reshape(inputs, (inputs.shape[0], *self._resolved(inputs.shape)))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._resolved(input_shape))

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Reorders the non-batch axes: ``dims`` is a permutation of ``1..rank-1`` (1-based, the
    batch axis stays first), so ``out.shape[i] = x.shape[dims[i - 1]]``.

    >>> import minigrad_layers as mgl
    >>> mgl.Permute((2, 1))(np.ones((4, 10, 64))).shape
    (4, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dims, tuple | list) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute: the indices must be "
                f"consecutive and start from 1 (the batch axis 0 stays), received dims={dims!r}"
            )
        self.dims = tuple(int(d) for d in dims)

    def build(self, input_shape) -> None:
        _check_rank(
            self,
            input_shape,
            f"an input of rank {len(self.dims) + 1} (batch and the {len(self.dims)} axes of "
            f"dims={self.dims})",
            len(input_shape) == len(self.dims) + 1,
        )

    def call(self, inputs):
        return mg.transpose(inputs, (0, *self.dims))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}
