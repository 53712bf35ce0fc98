"""SpatialDropout1D: dropout of whole channels of sequences (Keras semantics).

Where ``Dropout`` zeroes single entries, SpatialDropout1D draws one keep-or-drop decision per
sample and channel (noise shape ``(batch, 1, channels)``) and applies it at every step, so a
dropped channel is zero along the whole sequence. Neighbouring steps of a convolution's
output are strongly correlated, and dropping single entries of them regularizes little; dropping
channels does (Tompson et al., 2014, "Efficient Object Localization Using Convolutional
Networks").

>>> import numpy as np, minigrad_layers as mgl
>>> out = mgl.SpatialDropout1D(0.5, seed=1)(np.ones((1, 3, 4)), training=True).numpy()
>>> out                                         # each channel kept (x 2) or dropped at all steps
array([[[2., 2., 0., 2.],
        [2., 2., 0., 2.],
        [2., 2., 0., 2.]]], dtype=float32)
"""

from __future__ import annotations

from minigrad_layers.engine.input_spec import InputSpec
from minigrad_layers.layers.core import Dropout

__all__ = ["SpatialDropout1D"]


class SpatialDropout1D(Dropout):
    """Inverted dropout of whole channels: ``(batch, steps, channels)`` in, same shape out;
    with ``training`` truthy each channel of each sample is zeroed at every step with
    probability ``rate`` and the kept ones are scaled by ``1 / (1 - rate)``; otherwise the
    identity. ``seed`` as for ``Dropout``. Masks pass through.

    Its config has Keras 3's keys (``rate``, ``seed``, ``name``, ``dtype``).
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, noise_shape=(None, 1, None), seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=3)

    def get_config(self) -> dict:
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
