"""Conv1D: a 1-D convolution over the steps of sequences (Keras semantics).

With ``kernel (K, C/G, F)`` (K taps, C input channels in G groups, F filters), ``strides`` s and
``dilation_rate`` d, on the padded input ``xp``:

    out[b, i, f] = activation( Σ_k Σ_c xp[b, i·s + k·d, g·C/G + c] · kernel[k, c, f] + bias[f] )

where ``g = f // (F/G)`` is the group of filter f (one group, the default, sees every channel).
It is computed as the windows of :mod:`windows` (a gather, ``(B, L_out, K, C)``) contracted
with the kernel by ``mg.einsum``, so its gradients are those of the two recorded ops.
``padding``: ``"valid"`` (no padding), ``"same"`` (``ceil(L / s)`` output steps, zeros split
as TensorFlow splits them), ``"causal"`` (``(K - 1)·d`` zeros on the left: output step t sees
no input after t, for sequence models). As in tf.keras 2, ``strides > 1`` with
``dilation_rate > 1`` is refused, and an input mask is not passed on.

>>> import numpy as np, minigrad_layers as mgl
>>> conv = mgl.Conv1D(4, kernel_size=3, padding="causal")
>>> conv(np.ones((2, 10, 5))).shape, [w.shape for w in conv.weights]
((2, 10, 4), [(3, 5, 4), (4,)])
"""

from __future__ import annotations

import minigrad as mg
from minigrad_layers import activations
from minigrad_layers.engine.input_spec import InputSpec
from minigrad_layers.engine.layer import Layer
from minigrad_layers.layers.kernel_and_bias import (
    add_kernel_and_bias,
    kernel_and_bias_config,
    set_kernel_and_bias_options,
)
from minigrad_layers.layers.windows import check_output_length, pad_steps, sliding_windows
from minigrad_layers.utils.conv_utils import (
    conv_output_length,
    normalize_data_format,
    normalize_padding,
    normalize_positive_int,
    padding_amounts,
)

__all__ = ["Conv1D"]


class Conv1D(Layer):
    """``(batch, steps, channels) -> (batch, new_steps, filters)`` (channels_first: ``(batch,
    channels, steps) -> (batch, filters, new_steps)``); see the module docstring.

    Weights: ``kernel (kernel_size, channels // groups, filters)``, ``bias (filters,)``.

    >>> import numpy as np, minigrad_layers as mgl
    >>> mgl.Conv1D(2, 3, strides=2)(np.ones((1, 9, 4))).shape       # (9 - 3) // 2 + 1 steps
    (1, 4, 2)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = normalize_positive_int(filters, "filters")
        self.kernel_size = normalize_positive_int(kernel_size, "kernel_size")
        self.strides = normalize_positive_int(strides, "strides")
        self.padding = normalize_padding(padding, allow_causal=True)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_positive_int(dilation_rate, "dilation_rate")
        self.groups = normalize_positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(
                f"Conv1D: the number of filters must be divisible by the number of groups, "
                f"received filters={self.filters}, groups={self.groups}"
            )
        if self.strides > 1 and self.dilation_rate > 1:
            raise ValueError(
                f"Conv1D: `strides > 1` is not supported together with `dilation_rate > 1`, "
                f"received strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.activation = activations.get(activation)
        set_kernel_and_bias_options(
            self,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            kernel_constraint,
            bias_constraint,
        )
        self.input_spec = InputSpec(ndim=3)

    def _axes(self) -> tuple[int, int]:
        """(steps axis, channels axis) of the input."""
        return (1, 2) if self.data_format == "channels_last" else (2, 1)

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        steps_axis, channels_axis = self._axes()
        channels = input_shape[channels_axis]
        if channels is None:
            raise ValueError(
                f"Conv1D {self.name!r}: the channel dimension of its input must be known, "
                f"received input shape {input_shape}"
            )
        if channels % self.groups:
            raise ValueError(
                f"Conv1D {self.name!r}: the number of input channels must be divisible by "
                f"groups={self.groups}, received input shape {input_shape} ({channels} "
                "channels)"
            )
        self.compute_output_shape(input_shape)  # a clear error for too short inputs
        self.input_spec = InputSpec(ndim=3, axes={channels_axis: channels})
        add_kernel_and_bias(
            self, (self.kernel_size, channels // self.groups, self.filters), self.filters
        )

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        steps_axis, channels_axis = self._axes()
        length = conv_output_length(
            input_shape[steps_axis],
            self.kernel_size,
            self.padding,
            self.strides,
            self.dilation_rate,
        )
        check_output_length(self, input_shape, length)
        shape = list(input_shape)
        shape[steps_axis], shape[channels_axis] = length, self.filters
        return tuple(shape)

    def call(self, inputs):
        self.compute_output_shape(inputs.shape)  # a clear error for too short inputs
        x = inputs if self.data_format == "channels_last" else mg.transpose(inputs, (0, 2, 1))
        batch, length, channels = x.shape
        k, d, s, g = self.kernel_size, self.dilation_rate, self.strides, self.groups
        left, right = padding_amounts(length, k, self.padding, s, d)
        windows = sliding_windows(pad_steps(x, left, right), k, s, d)  # (B, L_out, K, C)
        steps = windows.shape[1]
        windows = mg.reshape(windows, (batch, steps, k, g, channels // g))  # (B, L_out, K, G, C/G)
        kernel = mg.reshape(
            self.kernel, (k, channels // g, g, self.filters // g)
        )  # (K, C/G, G, F/G)
        out = mg.einsum("blkgc,kcgf->blgf", windows, kernel)  # (B, L_out, G, F/G)
        out = mg.reshape(out, (batch, steps, self.filters))  # (B, L_out, F)
        if self.bias is not None:
            out = out + self.bias
        out = self.activation(out)
        return out if self.data_format == "channels_last" else mg.transpose(out, (0, 2, 1))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": (self.kernel_size,),
            "strides": (self.strides,),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": (self.dilation_rate,),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            **kernel_and_bias_config(self),
        }
