"""Pooling over the steps of sequences ``(batch, steps, channels)``: MaxPooling1D and
AveragePooling1D over sliding windows, GlobalMaxPooling1D and GlobalAveragePooling1D over all
steps (Keras semantics).

Local pooling with ``pool_size`` p, ``strides`` s (default p) and ``padding``:

    out[b, i, c] = max  (or mean)  of  x[b, i·s + k, c]  for k = 0 .. p-1

over the steps that exist: ``"same"`` pads so that there are ``ceil(steps / s)`` windows, and
the padded steps never count (a max ignores them, a mean divides by the real steps only, as
TensorFlow's pooling does). As in Keras, local pooling drops an input mask, and
``GlobalAveragePooling1D`` averages over the unmasked steps only (a row whose steps are all
masked divides 0 by 0, as Keras does); ``GlobalMaxPooling1D`` takes the max over every step, the
masked ones too, exactly as Keras (it does not use the mask). Gradients are those of the
recorded ops: a max sends its gradient to the winning step, a mean shares it.

>>> import numpy as np, minigrad_layers as mgl
>>> x = np.array([[[1.0], [3.0], [2.0], [5.0], [4.0]]])     # (1, 5, 1)
>>> mgl.MaxPooling1D(2)(x)[0, :, 0].numpy()                # windows [1, 3], [2, 5]
array([3., 5.], dtype=float32)
>>> mgl.AveragePooling1D(2, padding="same")(x)[0, :, 0].numpy()   # the last window is [4]
array([2. , 3.5, 4. ], dtype=float32)
>>> mgl.GlobalAveragePooling1D()(x).numpy()
array([[3.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers.engine.input_spec import InputSpec
from minigrad_layers.engine.layer import Layer
from minigrad_layers.layers.windows import check_output_length, pad_steps, sliding_windows
from minigrad_layers.utils.conv_utils import (
    conv_output_length,
    normalize_data_format,
    normalize_padding,
    normalize_positive_int,
    padding_amounts,
)

__all__ = ["AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPooling1D"]


class _Pooling1D(Layer):
    """Shared by MaxPooling1D and AveragePooling1D: arguments, shapes and the windows. A
    subclass sets ``_padding_value`` and ``_pool(windows, counts)``, which reduces ``windows
    (B, L_out, pool_size, C)`` over the window axis given ``counts (1, L_out, 1)``, the number
    of real (not padded) steps in each window."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_positive_int(pool_size, "pool_size")
        self.strides = (
            self.pool_size if strides is None else normalize_positive_int(strides, "strides")
        )
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def _steps_axis(self) -> int:
        return 1 if self.data_format == "channels_last" else 2

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        axis = self._steps_axis()
        length = conv_output_length(input_shape[axis], self.pool_size, self.padding, self.strides)
        check_output_length(self, input_shape, length)
        shape = list(input_shape)
        shape[axis] = length
        return tuple(shape)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)  # a clear error for too short inputs
        x = inputs if self.data_format == "channels_last" else mg.transpose(inputs, (0, 2, 1))
        left, right = padding_amounts(x.shape[1], self.pool_size, self.padding, self.strides)
        real_steps = pad_steps(mg.ones((1, x.shape[1], 1), dtype=x.dtype), left, right)
        counts = mg.sum(sliding_windows(real_steps, self.pool_size, self.strides), axis=2)
        windows = sliding_windows(
            pad_steps(x, left, right, self._padding_value), self.pool_size, self.strides
        )  # (B, L_out, pool_size, C)
        out = self._pool(windows, counts)  # (B, L_out, C)
        return out if self.data_format == "channels_last" else mg.transpose(out, (0, 2, 1))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "pool_size": (self.pool_size,),
            "padding": self.padding,
            "strides": (self.strides,),
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pooling1D):
    """The max of each window of ``pool_size`` steps, ``strides`` apart (default
    ``pool_size``); ``(B, L, C) -> (B, L_out, C)``, see the module docstring.

    >>> import numpy as np, minigrad_layers as mgl
    >>> mgl.MaxPooling1D(pool_size=3, strides=1)(np.ones((2, 5, 4))).shape
    (2, 3, 4)
    """

    _padding_value = -np.inf  # a padded step never wins a max

    def _pool(self, windows, counts):
        return mg.max(windows, axis=2)


class AveragePooling1D(_Pooling1D):
    """The mean of each window of ``pool_size`` steps, ``strides`` apart (default
    ``pool_size``), padded steps left out of the count; ``(B, L, C) -> (B, L_out, C)``.

    >>> import numpy as np, minigrad_layers as mgl
    >>> mgl.AveragePooling1D(pool_size=2)(np.ones((2, 5, 4))).shape
    (2, 2, 4)
    """

    _padding_value = 0.0

    def _pool(self, windows, counts):
        return mg.sum(windows, axis=2) / counts  # counts (1, L_out, 1): real steps per window


class _GlobalPooling1D(Layer):
    """Shared by the global poolings: ``(B, L, C) -> (B, C)``, or ``(B, 1, C)`` with
    ``keepdims`` (channels_first: ``(B, C, L) -> (B, C)`` or ``(B, C, 1)``)."""

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=3)

    def _steps_axis(self) -> int:
        return 1 if self.data_format == "channels_last" else 2

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if self.keepdims:
            shape[self._steps_axis()] = 1
        else:
            del shape[self._steps_axis()]
        return tuple(shape)

    def compute_mask(self, inputs, mask=None):
        return None  # the steps are gone

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over the steps; with a mask ``(B, L)``, the mean over the unmasked steps:
    ``out[b, c] = Σ_t m[b, t] · x[b, t, c] / Σ_t m[b, t]``.

    >>> import numpy as np, minigrad_layers as mgl
    >>> x = np.array([[[1.0], [3.0], [8.0]]])
    >>> mgl.GlobalAveragePooling1D()(x, mask=np.array([[True, True, False]])).numpy()
    array([[2.]], dtype=float32)
    """

    supports_masking = True

    def call(self, inputs, mask=None):
        axis = self._steps_axis()
        if mask is None:
            return mg.mean(inputs, axis=axis, keepdims=self.keepdims)
        if tuple(mask.shape) != tuple(inputs.shape[i] for i in (0, axis)):
            raise ValueError(
                f"GlobalAveragePooling1D {self.name!r}: the mask must have the shape (batch, "
                f"steps) = {(inputs.shape[0], inputs.shape[axis])}, received a mask of shape "
                f"{tuple(mask.shape)} for inputs of shape {tuple(inputs.shape)}"
            )
        keep = mg.expand_dims(mask, 3 - axis)  # (B, L, 1), or (B, 1, L) for channels_first
        total = mg.sum(mg.where(keep, inputs, 0.0), axis=axis, keepdims=self.keepdims)
        count = mg.sum(mg.cast(keep, inputs.dtype), axis=axis, keepdims=self.keepdims)
        return total / count


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The max over all steps, ``out[b, c] = max_t x[b, t, c]``. As in Keras, a mask is not
    used (masked steps take part) and is not passed on.

    >>> import numpy as np, minigrad_layers as mgl
    >>> mgl.GlobalMaxPooling1D(keepdims=True)(np.array([[[1.0], [3.0], [2.0]]])).numpy()
    array([[[3.]]], dtype=float32)
    """

    def call(self, inputs):
        return mg.max(inputs, axis=self._steps_axis(), keepdims=self.keepdims)
