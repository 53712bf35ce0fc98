"""The core layers: Dense, Embedding, Dropout, Activation and Masking (Keras semantics).

>>> import numpy as np, minigrad_layers as mgl
>>> ids = np.array([[3, 1, 0, 0]])                      # 0 = padding
>>> emb = mgl.Embedding(10, 4, mask_zero=True)
>>> h = mgl.Dense(2)(emb(ids))                            # Dense passes the mask on
>>> h.shape, mgl.get_keras_mask(h).numpy()
((1, 4, 2), array([[ True,  True, False, False]]))
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import minigrad as mg
from minigrad_layers import activations, constraints, initializers, regularizers
from minigrad_layers.engine.functional import is_shape
from minigrad_layers.engine.input_spec import InputSpec
from minigrad_layers.engine.layer import Layer
from minigrad_layers.layers.kernel_and_bias import (
    add_kernel_and_bias,
    kernel_and_bias_config,
    set_kernel_and_bias_options,
)

__all__ = ["Activation", "Dense", "Dropout", "Embedding", "Masking"]


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, received {value!r}")
    return int(value)


class Dense(Layer):
    """``activation(inputs · kernel + bias)`` on the last axis of inputs of any rank >= 2.

    Weights: ``kernel (input_dim, units)``, ``bias (units,)``. Masks pass through.

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> mgl.Dense(3)(mg.ones((2, 5, 4))).shape
    (2, 5, 3)
    """

    supports_masking = True

    def __init__(
        self,
        units,
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
        self.units = _positive_int("units", units)
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

    def build(self, input_shape) -> None:
        if is_shape(input_shape):
            input_shape = tuple(input_shape)
        if not isinstance(input_shape, tuple) or len(input_shape) < 2:
            raise ValueError(
                f"Dense {self.name!r} expects one input of rank >= 2 (batch, ..., features), "
                f"received input shape {input_shape}"
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"Dense {self.name!r}: the last dimension of its input must be known, received "
                f"input shape {input_shape}"
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_shape[-1]})
        add_kernel_and_bias(self, (input_shape[-1], self.units), self.units)

    def call(self, inputs):
        outputs = mg.dot(inputs, self.kernel)  # (..., units)
        if self.bias is not None:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            **kernel_and_bias_config(self),
        }


class Embedding(Layer):
    """Rows of an ``(input_dim, output_dim)`` table looked up by integer ids: ``(...) -> (...,
    output_dim)``. The gradient with respect to the table adds up the rows' gradients, once per
    occurrence of each id (a scatter-add).

    ``mask_zero=True`` makes id 0 padding: the output mask is ``ids != 0`` (so ``input_dim``
    counts the padding id). As in Keras 2, the input shape is ``(input_length,)`` unless given
    (``input_length=None``: sequences of any length), so a Sequential starting with an
    Embedding is built at once. Integer-valued float ids (``3.0``) are cast to integers, as Keras
    casts them; other floats (``1.7``) and ids outside ``[0, input_dim)`` raise.

    >>> import minigrad_layers as mgl
    >>> mgl.Embedding(5, 3)(np.array([[0, 4]])).shape
    (1, 2, 3)
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        mask_zero: bool = False,
        input_length=None,
        embeddings_regularizer=None,
        embeddings_constraint=None,
        **kwargs,
    ):
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)  # Keras 2: a Sequential starts with ids
        super().__init__(**kwargs)
        self.input_dim = _positive_int("input_dim", input_dim)
        self.output_dim = _positive_int("output_dim", output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_length = input_length

    def build(self, input_shape) -> None:
        if self.input_length is not None:  # Keras 2: the sequence length is fixed
            lengths = self.input_length
            lengths = tuple(lengths) if isinstance(lengths, list | tuple) else (lengths,)
            self.input_spec = InputSpec(shape=(None, *lengths))
        self.embeddings = self.add_weight(
            "embeddings",
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )

    def call(self, inputs):
        ids = inputs.numpy()
        if ids.dtype.kind == "f":
            fractional = ids != np.round(ids)  # also True for NaN
            if fractional.any():
                raise ValueError(
                    f"Embedding {self.name!r} looks up integer ids, received the non-integer "
                    f"id {str(ids[fractional].flat[0])} (float ids must be whole numbers)"
                )
        if ids.dtype.kind not in "iu":
            ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            raise ValueError(
                f"Embedding {self.name!r} has input_dim={self.input_dim}, so ids must lie in "
                f"[0, {self.input_dim}); received ids from {ids.min()} to {ids.max()}"
            )
        return mg.getitem(self.embeddings, ids)  # (..., output_dim)

    def compute_mask(self, inputs, mask=None):
        return mg.not_equal(inputs, 0) if self.mask_zero else None

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": self.embeddings_initializer,
            "embeddings_regularizer": self.embeddings_regularizer,
            "embeddings_constraint": self.embeddings_constraint,
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        }


class Dropout(Layer):
    """Inverted dropout: when ``training`` is truthy, each entry is zeroed with probability
    ``rate`` and the kept ones are scaled by ``1 / (1 - rate)``; otherwise the identity.

    ``noise_shape`` (optional) is the shape of the random keep-mask, broadcast over the input
    (``None`` entries take the input's size); ``seed`` gives the layer its own generator
    (default: ``mg.random.generator()``). Masks pass through.

    >>> import minigrad_layers as mgl
    >>> drop = mgl.Dropout(0.5)
    >>> bool((drop(np.ones((2, 3))).numpy() == 1).all())      # not training: identity
    True
    >>> sorted(set(drop(np.ones((50,)), training=True).numpy().tolist()))
    [0.0, 2.0]
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate < 1:
            raise ValueError(
                f"Dropout `rate` is the fraction of inputs to drop: a number in [0, 1), "
                f"received {rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(
                n if d is None else d for d, n in zip(self.noise_shape, shape, strict=True)
            )
        rng = self._generator or mg.random.generator()
        keep = rng.random(shape) >= self.rate
        return inputs * (keep / (1.0 - self.rate)).astype(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": self.noise_shape,
            "seed": self.seed,
        }


class Activation(Layer):
    """Applies an activation (a name from ``mgl.activations`` or a callable). Masks pass
    through.

    >>> import minigrad_layers as mgl
    >>> mgl.Activation("relu")(np.array([-1.0, 2.0])).numpy()
    array([0., 2.], dtype=float32)
    """

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Masking(Layer):
    """Masks the time steps whose features all equal ``mask_value``: the output mask is
    ``any(x != mask_value, axis=-1)`` and the output is ``x`` with those steps zeroed.
    ``mask_value=np.nan`` masks the steps whose features are all NaN (NaN equals nothing, so
    they are found with ``isnan``), and zeroes them too.

    >>> import minigrad_layers as mgl
    >>> x = np.array([[[1.0, 2.0], [0.0, 0.0]]])
    >>> mgl.get_keras_mask(mgl.Masking()(x)).numpy()
    array([[ True, False]])
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def _keep(self, inputs) -> np.ndarray:
        x = inputs.numpy()
        value = self.mask_value
        if isinstance(value, numbers.Real) and math.isnan(value):
            return ~np.all(np.isnan(x), axis=-1)  # (batch, timesteps)
        return np.any(x != value, axis=-1)

    def call(self, inputs):
        keep = self._keep(inputs)[..., None]  # (batch, timesteps, 1)
        return mg.where(keep, inputs, 0.0)  # zeros also where the masked values are NaN

    def compute_mask(self, inputs, mask=None):
        return mg.tensor(self._keep(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
