r"""BatchNormalization and LayerNormalization (Keras semantics).

Both compute, with a mean ``μ`` and a variance ``σ²`` (biased: divided by the count),

    y = γ · (x - μ) / sqrt(σ² + ε) + β

with ``γ`` (``scale=True``) and ``β`` (``center=True``) learned per feature. They differ in
what ``μ`` and ``σ²`` are taken over:

* BatchNormalization: over every axis but ``axis`` (the features), i.e. across the batch (and
  the steps of a sequence). With ``training=True`` it uses the batch's statistics and moves the
  non-trainable ``moving_mean`` / ``moving_variance`` towards them, ``m ← momentum · m + (1 -
  momentum) · batch value``; otherwise (inference, and always when the layer is frozen with
  ``trainable=False``) it uses the moving statistics. A mask ``(batch, steps)`` leaves the
  masked steps out of the batch statistics, as Keras 3 does (``Σ mask · x / (Σ mask + 1e-7)``).
* LayerNormalization: over ``axis`` (an int or a list), separately for every sample; there are
  no moving statistics and training changes nothing.

Gradients flow through ``μ`` and ``σ²`` (the tape records their computation). Masks pass
through both layers. Weights, in Keras' order: ``gamma``, ``beta``, then BatchNormalization's
``moving_mean``, ``moving_variance``.

>>> import numpy as np, minigrad_layers as mgl
>>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
>>> mgl.BatchNormalization(epsilon=0.0)(x, training=True).numpy()
array([[-1., -1.],
       [ 1.,  1.]], dtype=float32)
>>> mgl.LayerNormalization(epsilon=0.0)(np.array([[1.0, 3.0]])).numpy()
array([[-1.,  1.]], dtype=float32)
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers import constraints, initializers, regularizers
from minigrad_layers.engine.input_spec import InputSpec
from minigrad_layers.engine.layer import Layer

__all__ = ["BatchNormalization", "LayerNormalization"]

_MASK_EPSILON = 1e-7  # Keras' backend.epsilon(), added to the count of unmasked entries


def _normalize(x, mean, variance, epsilon, gamma, beta):
    """``gamma · (x - mean) / sqrt(variance + epsilon) + beta`` (gamma, beta may be None)."""
    out = (x - mean) / mg.sqrt(variance + epsilon)
    if gamma is not None:
        out = out * gamma
    if beta is not None:
        out = out + beta
    return out


def _check_in_bounds(layer, axes, input_shape) -> None:
    """ValueError naming the layer when an axis is out of range for ``input_shape``."""
    ndim = len(input_shape)
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r}: axis {axis} is out of bounds for "
                f"inputs of rank {ndim} (input shape {tuple(input_shape)}); received "
                f"axis={layer.axis!r}"
            )


def _check_axes(layer, axes, input_shape) -> list[int]:
    """``axes`` as sorted non-negative ints; ValueError naming the layer when one is out of
    range, repeated, or of unknown size."""
    _check_in_bounds(layer, axes, input_shape)
    positive = sorted(axis % len(input_shape) for axis in axes)
    if len(set(positive)) != len(positive):
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: repeated axis in axis={layer.axis!r}"
        )
    unknown = [axis for axis in positive if input_shape[axis] is None]
    if unknown:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r}: the size of axis {unknown[0]} must be "
            f"known to create its weights, received input shape {tuple(input_shape)}"
        )
    return positive


def _check_int_axis(layer_type: str, axis):
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{layer_type}: `axis` must be an int, received {axis!r}")
    return int(axis)


class BatchNormalization(Layer):
    """Normalizes each feature on ``axis`` by the batch's statistics in training and by moving
    averages of them in inference; see the module docstring. Input of any rank, same shape out.

    ``synchronized``, ``renorm``, ``renorm_clipping`` and ``renorm_momentum`` are accepted (and
    kept in the config) so that Keras 3 configs load; only their defaults are supported.

    >>> import numpy as np, minigrad_layers as mgl
    >>> bn = mgl.BatchNormalization(momentum=0.5)
    >>> _ = bn(np.array([[2.0], [4.0]]), training=True)     # batch mean 3, variance 1
    >>> bn.moving_mean.numpy(), bn.moving_variance.numpy()
    (array([1.5], dtype=float32), array([1.], dtype=float32))
    """

    supports_masking = True

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        synchronized: bool = False,
        renorm: bool = False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.axis = _check_int_axis("BatchNormalization", axis)
        self.momentum = float(momentum)
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(
                f"BatchNormalization: `momentum` must be in [0, 1], received {momentum!r}"
            )
        self.epsilon = float(epsilon)
        if self.epsilon < 0:
            raise ValueError(f"BatchNormalization: `epsilon` must be >= 0, received {epsilon!r}")
        if synchronized or renorm or renorm_clipping is not None:
            raise ValueError(
                "BatchNormalization: synchronized=True, renorm=True and renorm_clipping are "
                f"not supported, received synchronized={synchronized!r}, renorm={renorm!r}, "
                f"renorm_clipping={renorm_clipping!r}"
            )
        self.synchronized, self.renorm = False, False
        self.renorm_clipping, self.renorm_momentum = None, float(renorm_momentum)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        (self._feature_axis,) = _check_axes(self, [self.axis], input_shape)
        size = input_shape[self._feature_axis]
        self.input_spec = InputSpec(ndim=ndim, axes={self._feature_axis: size})
        self._broadcast_shape = tuple(size if a == self._feature_axis else 1 for a in range(ndim))
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                "gamma",
                (size,),
                self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.beta = self.add_weight(
                "beta",
                (size,),
                self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )
        self.moving_mean = self.add_weight(
            "moving_mean", (size,), self.moving_mean_initializer, trainable=False
        )
        self.moving_variance = self.add_weight(
            "moving_variance", (size,), self.moving_variance_initializer, trainable=False
        )

    def _batch_moments(self, x, mask):
        """Mean and biased variance of ``x`` over every axis but the features', shaped for
        broadcasting; with ``mask (batch, steps)``, over the unmasked entries only."""
        axes = tuple(a for a in range(x.ndim) if a != self._feature_axis)
        if mask is None:
            mean = mg.mean(x, axis=axes, keepdims=True)
            return mean, mg.mean((x - mean) ** 2, axis=axes, keepdims=True)
        keep = np.broadcast_to(mask.numpy()[..., None], x.shape)  # (..., 1) -> x's shape
        count = keep.sum(axis=axes, keepdims=True).astype(x.dtype) + _MASK_EPSILON
        mean = mg.sum(mg.where(keep, x, 0.0), axis=axes, keepdims=True) / count
        squares = mg.where(keep, (x - mean) ** 2, 0.0)
        return mean, mg.sum(squares, axis=axes, keepdims=True) / count

    def call(self, inputs, training=None, mask=None):
        if mask is not None and mask.ndim != inputs.ndim - 1:
            raise ValueError(
                f"BatchNormalization {self.name!r}: the mask must have one dimension less "
                f"than the inputs, received mask shape {tuple(mask.shape)} for inputs of "
                f"shape {tuple(inputs.shape)}"
            )
        shape = self._broadcast_shape
        gamma = None if self.gamma is None else mg.reshape(self.gamma, shape)
        beta = None if self.beta is None else mg.reshape(self.beta, shape)
        if training and self.trainable:
            mean, variance = self._batch_moments(inputs, mask)
            self._update_moving_statistics(mean.numpy(), variance.numpy())
        else:
            mean = mg.reshape(self.moving_mean, shape)
            variance = mg.reshape(self.moving_variance, shape)
        return _normalize(inputs, mean, variance, self.epsilon, gamma, beta)

    def _update_moving_statistics(self, mean: np.ndarray, variance: np.ndarray) -> None:
        """``m ← momentum · m + (1 - momentum) · batch value`` (plain arrays: not on a tape)."""
        for moving, batch_value in ((self.moving_mean, mean), (self.moving_variance, variance)):
            moving.assign(
                moving.numpy() * self.momentum + batch_value.reshape(-1) * (1.0 - self.momentum)
            )

    def compute_output_shape(self, input_shape):
        _check_in_bounds(self, [self.axis], input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": self.beta_initializer,
            "gamma_initializer": self.gamma_initializer,
            "moving_mean_initializer": self.moving_mean_initializer,
            "moving_variance_initializer": self.moving_variance_initializer,
            "beta_regularizer": self.beta_regularizer,
            "gamma_regularizer": self.gamma_regularizer,
            "beta_constraint": self.beta_constraint,
            "gamma_constraint": self.gamma_constraint,
            "synchronized": self.synchronized,
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        }


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (an int or a list of ints); ``gamma`` and ``beta``
    have the shape of those axes. See the module docstring. Same shape out.

    ``rms_scaling`` is accepted (and kept in the config) so that Keras 3 configs load; Keras 3
    deprecates it and only ``False`` is supported.

    >>> import numpy as np, minigrad_layers as mgl
    >>> ln = mgl.LayerNormalization(axis=[1, 2])
    >>> ln(np.ones((2, 3, 4))).shape, ln.gamma.shape
    ((2, 3, 4), (3, 4))
    """

    supports_masking = True

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        rms_scaling: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(axis, list | tuple) and axis:
            self.axis = [_check_int_axis("LayerNormalization", a) for a in axis]
        elif isinstance(axis, list | tuple):
            raise ValueError("LayerNormalization: `axis` must name at least one axis, received []")
        else:
            self.axis = _check_int_axis("LayerNormalization", axis)
        self.epsilon = float(epsilon)
        if self.epsilon < 0:
            raise ValueError(f"LayerNormalization: `epsilon` must be >= 0, received {epsilon!r}")
        if rms_scaling:
            raise ValueError(
                "LayerNormalization: rms_scaling=True (deprecated in Keras 3) is not supported"
            )
        self.rms_scaling = False
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _axes(self) -> list:
        return self.axis if isinstance(self.axis, list) else [self.axis]

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        self._norm_axes = tuple(_check_axes(self, self._axes(), input_shape))
        sizes = {a: input_shape[a] for a in self._norm_axes}
        self.input_spec = InputSpec(ndim=ndim, axes=sizes)
        self._broadcast_shape = tuple(sizes.get(a, 1) for a in range(ndim))
        shape = tuple(sizes.values())
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(
                "gamma",
                shape,
                self.gamma_initializer,
                regularizer=self.gamma_regularizer,
                constraint=self.gamma_constraint,
            )
        if self.center:
            self.beta = self.add_weight(
                "beta",
                shape,
                self.beta_initializer,
                regularizer=self.beta_regularizer,
                constraint=self.beta_constraint,
            )

    def call(self, inputs):
        mean = mg.mean(inputs, axis=self._norm_axes, keepdims=True)
        variance = mg.mean((inputs - mean) ** 2, axis=self._norm_axes, keepdims=True)
        shape = self._broadcast_shape
        gamma = None if self.gamma is None else mg.reshape(self.gamma, shape)
        beta = None if self.beta is None else mg.reshape(self.beta, shape)
        return _normalize(inputs, mean, variance, self.epsilon, gamma, beta)

    def compute_output_shape(self, input_shape):
        _check_in_bounds(self, self._axes(), input_shape)
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            "beta_initializer": self.beta_initializer,
            "gamma_initializer": self.gamma_initializer,
            "beta_regularizer": self.beta_regularizer,
            "gamma_regularizer": self.gamma_regularizer,
            "beta_constraint": self.beta_constraint,
            "gamma_constraint": self.gamma_constraint,
        }
