"""Sliding windows over the steps of a sequence, built from recorded ops (concat, slicing and
stack), so that convolution and pooling need no gradient rules of their own. Tap ``k`` of every
window is one strided slice of the sequence, ``x[:, k·d :: s]`` (cut to the number of windows);
the windows stack the taps. A step that lies in several windows is in several slices, and the
tape adds up the slices' gradients.

>>> import numpy as np, minigrad as mg
>>> x = mg.tensor(np.arange(5.0).reshape(1, 5, 1))           # (B=1, L=5, C=1)
>>> sliding_windows(x, window=2, stride=2)[0, :, :, 0].numpy()   # windows [0, 1] and [2, 3]
array([[0., 1.],
       [2., 3.]])
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers.utils.conv_utils import conv_output_length

__all__ = ["check_output_length", "pad_steps", "sliding_windows"]


def pad_steps(x, left: int, right: int, value: float = 0.0):
    """``(B, L, C) -> (B, left + L + right, C)``: ``value`` steps added before and after."""
    batch, _, channels = x.shape
    parts = [x]
    if left:
        parts.insert(0, mg.tensor(np.full((batch, left, channels), value, dtype=x.dtype)))
    if right:
        parts.append(mg.tensor(np.full((batch, right, channels), value, dtype=x.dtype)))
    return mg.concat(parts, axis=1) if len(parts) > 1 else x


def sliding_windows(x, window: int, stride: int, dilation: int = 1):
    """``(B, L, C) -> (B, L_out, window, C)`` with ``out[b, i, k, c] = x[b, i · stride + k ·
    dilation, c]``, for the ``L_out`` windows that fit inside the ``L`` steps (no padding)."""
    count = conv_output_length(x.shape[1], window, "valid", stride, dilation)
    span = (count - 1) * stride + 1  # the steps from a window's first tap to the last's
    taps = [
        mg.getitem(x, (slice(None), slice(k * dilation, k * dilation + span, stride)))
        for k in range(window)
    ]  # each (B, L_out, C)
    return mg.stack(taps, axis=2)  # (B, L_out, window, C)


def check_output_length(layer, input_shape, output_length) -> None:
    """ValueError naming ``layer`` when its windows leave no output step for ``input_shape``."""
    if output_length is not None and output_length < 1:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: an input of {input_shape[1]} steps (input "
            f"shape {tuple(input_shape)}) is too short for its window with padding="
            f"{layer.padding!r}; the output would have {output_length} steps. Use longer "
            "inputs, a smaller window or padding='same'"
        )
