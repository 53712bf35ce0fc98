"""Weight initializers with Keras' names, arguments and formulas.

An initializer is called as ``init(shape, dtype=None)`` and returns a numpy array (``dtype``
defaults to ``mg.floatx()``). A random initializer draws from a generator of its own, seeded
when it is created by its ``seed`` argument or else by a draw from ``mg.random.generator()``; so
``mg.random.seed(n)`` before making a layer fixes the layer's initial weights, however late it is
built, and successive calls of one initializer give fresh values.

Fans, as Keras computes them: ``fan_in = shape[-2]`` and ``fan_out = shape[-1]`` for a matrix;
both are ``shape[0]`` for a vector and 1 for a scalar; for more dimensions both are multiplied by
the receptive field ``prod(shape[:-2])``.

>>> import minigrad as mg
>>> from minigrad_layers import initializers
>>> mg.random.seed(0)
>>> w = initializers.get("glorot_uniform")((3, 5))
>>> w.shape, w.dtype, bool(abs(w).max() <= (6 / (3 + 5)) ** 0.5)
((3, 5), dtype('float32'), True)
>>> initializers.get("ones")((2,), dtype="float64")
array([1., 1.])
"""

from __future__ import annotations

import math

import numpy as np

import minigrad as mg
from minigrad.dtypes import as_dtype

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Initializer",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "VarianceScaling",
    "Zeros",
    "get",
]


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)`` returning an array."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        """The constructor arguments (``type(init)(**init.get_config())`` is an equal copy)."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _RandomInitializer(Initializer):
    """Draws from its own generator, seeded by ``seed`` or, when that is None, by a number drawn
    from ``mg.random.generator()`` at construction (as Keras fixes an unseeded initializer's
    seed when it is created): a layer's weights depend on the seed set before the layer was
    made, not on when it is built."""

    def __init__(self, seed=None):
        self.seed = seed
        if seed is None:
            seed = int(mg.random.generator().integers(2**63))
        self._generator = np.random.default_rng(seed)


def _shape(shape) -> tuple:
    return (int(shape),) if isinstance(shape, int | np.integer) else tuple(int(n) for n in shape)


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.zeros(_shape(shape), dtype=as_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.ones(_shape(shape), dtype=as_dtype(dtype))


class Constant(Initializer):
    """Every entry equal to ``value`` (a scalar, or an array broadcastable to the shape).

    >>> Constant(0.5)((2,))
    array([0.5, 0.5], dtype=float32)
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None) -> np.ndarray:
        return np.full(_shape(shape), self.value, dtype=as_dtype(dtype))

    def get_config(self) -> dict:
        return {"value": self.value}


class RandomUniform(_RandomInitializer):
    """Uniform on ``[minval, maxval)``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = minval
        self.maxval = maxval

    def __call__(self, shape, dtype=None) -> np.ndarray:
        values = self._generator.uniform(self.minval, self.maxval, size=_shape(shape))
        return values.astype(as_dtype(dtype))

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_RandomInitializer):
    """Normal with mean ``mean`` and standard deviation ``stddev``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape, dtype=None) -> np.ndarray:
        values = self._generator.normal(self.mean, self.stddev, size=_shape(shape))
        return values.astype(as_dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def compute_fans(shape) -> tuple[float, float]:
    """``(fan_in, fan_out)`` as Keras computes them (see the module docstring)."""
    shape = _shape(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive_field = math.prod(shape[:-2])
    return float(shape[-2] * receptive_field), float(shape[-1] * receptive_field)


def _truncated_normal(rng: np.random.Generator, stddev: float, shape: tuple) -> np.ndarray:
    """Normal(0, stddev) samples, redrawing any that fall beyond two standard deviations."""
    values = rng.normal(0.0, stddev, size=shape)
    outside = np.abs(values) > 2 * stddev
    while outside.any():
        values[outside] = rng.normal(0.0, stddev, size=int(outside.sum()))
        outside = np.abs(values) > 2 * stddev
    return values


class VarianceScaling(_RandomInitializer):
    """Samples whose variance is ``scale / n``, with ``n`` the fan given by ``mode``.

    * ``mode``: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"`` (their mean); ``n`` is at least 1.
    * ``distribution="truncated_normal"``: a normal truncated at two standard deviations, with
      ``stddev = sqrt(scale / n) / 0.87962566103423978`` (the truncation's correction);
      ``"untruncated_normal"``: ``stddev = sqrt(scale / n)``; ``"uniform"``: uniform on
      ``[-limit, limit]`` with ``limit = sqrt(3 scale / n)``.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: `scale` must be positive, received {scale}")
        if mode not in self._MODES:
            raise ValueError(
                f"VarianceScaling: `mode` must be one of {self._MODES}, received {mode!r}"
            )
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"VarianceScaling: `distribution` must be one of {self._DISTRIBUTIONS}, "
                f"received {distribution!r}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = _shape(shape)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = self._generator
        if self.distribution == "truncated_normal":
            values = _truncated_normal(rng, math.sqrt(variance) / 0.87962566103423978, shape)
        elif self.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(variance), size=shape)
        else:
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, size=shape)
        return values.astype(as_dtype(dtype))

    def get_config(self) -> dict:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling preset: only ``seed`` is an argument."""

    _PRESET: tuple = ()

    def __init__(self, seed=None):
        scale, mode, distribution = self._PRESET
        super().__init__(scale, mode, distribution, seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``."""

    _PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))`` (before truncation's
    correction, see :class:`VarianceScaling`)."""

    _PRESET = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform on ``[-limit, limit]``, ``limit = sqrt(6 / fan_in)``."""

    _PRESET = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / fan_in)`` (before truncation's correction)."""

    _PRESET = (2.0, "fan_in", "truncated_normal")


class Orthogonal(_RandomInitializer):
    """A (semi-)orthogonal matrix times ``gain``, as Keras builds it.

    The shape is flattened to ``(rows, cols) = (prod(shape[:-1]), shape[-1])``; a normal
    ``(max(rows, cols), min(rows, cols))`` matrix is factored as ``QR``, the columns of ``Q``
    get the signs of ``diag(R)`` (so the result is uniformly distributed), and ``Q`` is
    transposed when ``rows < cols``. So the columns are orthonormal when ``rows >= cols``, the
    rows when ``rows < cols`` (a recurrent kernel ``(u, 4u)`` has orthonormal rows).

    >>> q = Orthogonal()((3, 12), dtype="float64")
    >>> bool(np.allclose(q @ q.T, np.eye(3)))
    True
    """

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None) -> np.ndarray:
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                f"The Orthogonal initializer needs a shape with at least 2 dimensions, "
                f"received {shape}"
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._generator.normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)  # q: (max, min), orthonormal columns
        q = q * np.sign(np.diag(r))  # fix the signs so Q is uniform over orthogonal matrices
        if rows < cols:
            q = q.T  # (rows, cols) with orthonormal rows
        return (self.gain * q.reshape(shape)).astype(as_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


_BY_NAME = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "uniform": RandomUniform,
    "random_uniform": RandomUniform,
    "normal": RandomNormal,
    "random_normal": RandomNormal,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "orthogonal": Orthogonal,
    "variance_scaling": VarianceScaling,
}
_BY_NAME.update({cls.__name__: cls for cls in set(_BY_NAME.values())})


def get(identifier):
    """An initializer from a Keras name (``"glorot_uniform"`` or ``"GlorotUniform"``), an
    instance, a class, or any callable ``f(shape, dtype=None)``; ``None`` gives ``None``.

    >>> get("orthogonal"), get(Zeros()), get(None)
    (Orthogonal(gain=1.0, seed=None), Zeros(), None)
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(
                f"Unknown initializer {identifier!r}. Allowed names: "
                f"{', '.join(sorted(_BY_NAME))}; or pass an initializer instance or a callable "
                "f(shape, dtype=None)"
            )
        return _BY_NAME[identifier]()
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        f"Could not interpret initializer {identifier!r} (of type {type(identifier).__name__}): "
        "pass a name such as 'glorot_uniform', an initializer instance or a callable"
    )
