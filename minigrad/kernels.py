"""The elementwise and reduction kernels of minigrad, in Numba: arrays in, arrays out.

Layout. Each public kernel ``name(...)`` is a thin Python wrapper that checks the dtype (float32
or float64; both operands of one dtype, else ``TypeError``), makes its inputs C-contiguous,
preallocates ``out`` and calls a jitted loop ``_name...`` that writes into it. Right next to it
sits ``name_reference(...)``: the same function in plain numpy, which the tests compare against.
The jitted loops see only contiguous arrays (1-D for the elementwise kernels), so each compiles
once per dtype, lazily, on first use, and is cached on disk (``cache=True``).

Floating point. float32 stays float32. ``fastmath`` is limited to ``contract`` (fused
multiply-add) and, for sums only, ``reassoc`` (LLVM may reorder a sum to vectorise it); both keep
inf/NaN semantics. ``error_model="numpy"`` gives IEEE results (``1/0 = inf``) instead of
exceptions. float64 kernels use exact math (libm). For float32 only, ``tanh`` and ``sigmoid`` use
the vectorisable approximations of ``approximations.py`` (within 4e-7 relative; the API allows
1e-6).

Groups: unary forward; unary backward; reductions. The binary ops (add, subtract, multiply,
divide) are ``binary_kernels.py``, the matmul is ``matmul_kernels.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigrad.approximations import sigmoid_f32, tanh_f32

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_FLAGS = {"contract"}  # FMA contraction only: inf/NaN semantics are kept
_SUM_FLAGS = {"contract", "reassoc"}  # a reordered (vectorised) sum


def _is_float(dtype: np.dtype) -> bool:
    return dtype is _F32 or dtype is _F64 or dtype in (_F32, _F64)


def _check_float(x: np.ndarray) -> None:
    if not _is_float(x.dtype):
        raise TypeError(f"kernels work on float32 or float64 arrays, received dtype {x.dtype}")


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    """Both operands of one float dtype, else TypeError."""
    dtype = a.dtype
    if b.dtype is dtype and (dtype is _F32 or dtype is _F64):
        return  # the common case, decided by identity alone
    if b.dtype != dtype:
        raise TypeError(
            f"kernel operands must share one dtype, received {dtype} and {b.dtype}; "
            "cast one of them first"
        )
    _check_float(a)


def _contiguous(x: np.ndarray) -> np.ndarray:
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


# =============================================================================================
# unary forward
# =============================================================================================
#
# Each kernel is one flat loop ``for i in range(x.size): out[i] = f(x[i])`` over the contiguous
# array (the wrapper passes 1-D views). Loops of plain arithmetic vectorise; np.exp, np.log and
# np.tanh are scalar libm calls.

_ZERO32 = np.float32(0.0)  # a zero that keeps float32 float32 and is widened for float64
_ONE32 = np.float32(1.0)


def _unary(kernel, x: np.ndarray) -> np.ndarray:
    _check_float(x)
    x = _contiguous(x)
    out = np.empty(x.shape, x.dtype)
    kernel(x.ravel(), out.ravel())
    return out


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _tanh(x, out):
    """out[i] = tanh(x[i]): float32 by the approximation of approximations.py, float64 by libm.

    One kernel for both dtypes, compiled for each dtype on its first use (the loop of the other
    dtype is compiled too but never runs); the sequence kernels of recurrent_kernels.py call it
    as well."""
    if x.itemsize == 4:
        for i in range(x.size):
            out[i] = tanh_f32(x[i])
    else:
        for i in range(x.size):
            out[i] = np.tanh(x[i])


def tanh(x: np.ndarray) -> np.ndarray:
    """tanh(x), elementwise; float32 by a rational approximation (<= 4e-7 relative error).

    >>> tanh(np.array([0.0, 20.0], np.float32))
    array([0., 1.], dtype=float32)
    """
    return _unary(_tanh, x)


def tanh_reference(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _sigmoid(x, out):
    """out[i] = sigmoid(x[i]), float32 by the approximation of approximations.py, float64
    through libm's exp of -|x|: 1 / (1 + e) for x >= 0, e / (1 + e) below (never overflows).
    Both loops compiled per dtype, as in _tanh."""
    if x.itemsize == 4:
        for i in range(x.size):
            out[i] = sigmoid_f32(x[i])
    else:
        for i in range(x.size):
            v = x[i]
            e = np.exp(-np.abs(v))
            out[i] = 1.0 / (1.0 + e) if v >= 0.0 else e / (1.0 + e)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), elementwise, stable for any x (no overflow).

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    return _unary(_sigmoid, x)


def sigmoid_reference(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


# --- relu, exp, log, sqrt, abs ----------------------------------------------------------------


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _relu(x, out):
    for i in range(x.size):
        v = x[i]
        out[i] = _ZERO32 if v <= _ZERO32 else v  # NaN is not <= 0: it passes through


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0), elementwise (NaN stays NaN).

    >>> relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    return _unary(_relu, x)


def relu_reference(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _exp(x, out):
    for i in range(x.size):
        out[i] = np.exp(x[i])


def exp(x: np.ndarray) -> np.ndarray:
    """e**x, elementwise (libm, both dtypes)."""
    return _unary(_exp, x)


def exp_reference(x: np.ndarray) -> np.ndarray:
    return np.exp(x)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _log(x, out):
    for i in range(x.size):
        out[i] = np.log(x[i])


def log(x: np.ndarray) -> np.ndarray:
    """Natural logarithm, elementwise (log 0 = -inf, log of a negative number = NaN)."""
    return _unary(_log, x)


def log_reference(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _sqrt(x, out):
    for i in range(x.size):
        out[i] = np.sqrt(x[i])


def sqrt(x: np.ndarray) -> np.ndarray:
    """Square root, elementwise (NaN for negative numbers)."""
    return _unary(_sqrt, x)


def sqrt_reference(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _abs(x, out):
    for i in range(x.size):
        out[i] = np.abs(x[i])


def abs(x: np.ndarray) -> np.ndarray:  # noqa: A001 (the op's public name)
    """|x|, elementwise."""
    return _unary(_abs, x)


def abs_reference(x: np.ndarray) -> np.ndarray:
    return np.abs(x)


# =============================================================================================
# unary backward
# =============================================================================================
#
# ``name_backward(v, g)``: g is the upstream gradient dL/dout, v the op's input or output
# (whichever the derivative is cheaper in), both of one shape. One flat loop each.


def _unary_backward(kernel, v: np.ndarray, g: np.ndarray) -> np.ndarray:
    _check_pair(v, g)
    if v.shape != g.shape:
        raise ValueError(f"backward kernels need equal shapes, received {v.shape} and {g.shape}")
    v, g = _contiguous(v), _contiguous(g)
    out = np.empty(v.shape, v.dtype)
    kernel(v.ravel(), g.ravel(), out.ravel())
    return out


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _tanh_backward(y, g, out):
    for i in range(y.size):
        out[i] = g[i] * (_ONE32 - y[i] * y[i])


def tanh_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * (1 - y**2), with y = tanh(x)."""
    return _unary_backward(_tanh_backward, y, g)


def tanh_backward_reference(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * (1 - y * y)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _sigmoid_backward(y, g, out):
    for i in range(y.size):
        out[i] = g[i] * y[i] * (_ONE32 - y[i])


def sigmoid_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * y * (1 - y), with y = sigmoid(x)."""
    return _unary_backward(_sigmoid_backward, y, g)


def sigmoid_backward_reference(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * y * (1 - y)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _relu_backward(x, g, out):
    for i in range(x.size):
        out[i] = g[i] if x[i] > _ZERO32 else _ZERO32


def relu_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * (x > 0)."""
    return _unary_backward(_relu_backward, x, g)


def relu_backward_reference(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * (x > 0)


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _log_backward(x, g, out):
    for i in range(x.size):
        out[i] = g[i] / x[i]


def log_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g / x."""
    return _unary_backward(_log_backward, x, g)


def log_backward_reference(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return g / x


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _sqrt_backward(y, g, out):
    for i in range(y.size):
        out[i] = g[i] * np.float32(0.5) / y[i]


def sqrt_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * 0.5 / y, with y = sqrt(x)."""
    return _unary_backward(_sqrt_backward, y, g)


def sqrt_backward_reference(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * 0.5 / y


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _abs_backward(x, g, out):
    for i in range(x.size):
        out[i] = g[i] * np.sign(x[i])


def abs_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * sign(x) (0 at x = 0)."""
    return _unary_backward(_abs_backward, x, g)


def abs_backward_reference(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * np.sign(x)


# =============================================================================================
# reductions
# =============================================================================================
#
# float32 is accumulated in float64 and the result cast back: a sum over a million float32
# terms keeps ~7 significant digits instead of drifting by ~1e-4.


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _sum_rows(x, acc, out):
    """out[j] = sum_r x[r, j]; loop nest r / j (vectorised), accumulating in ``acc``, float64
    zeros on entry."""
    rows, n = x.shape
    for r in range(rows):
        xr = x[r]
        for j in range(n):
            acc[j] += xr[j]
    for j in range(n):
        out[j] = acc[j]


def sum_leading(x: np.ndarray, n: int) -> np.ndarray:
    """Sum over the first ``n`` axes: shape ``x.shape[n:]`` (how the tape undoes broadcasting).

    >>> sum_leading(np.ones((4, 2, 3), np.float32), 2)
    array([8., 8., 8.], dtype=float32)
    """
    _check_float(x)
    if not 0 <= n <= x.ndim:
        raise ValueError(f"sum_leading: cannot sum {n} leading axes of an array of shape {x.shape}")
    x = _contiguous(x)
    out = np.empty(x.shape[n:], x.dtype)
    inner = out.size
    acc = np.zeros(inner, np.float64)
    _sum_rows(x.reshape(-1, inner) if inner else x.reshape(0, 0), acc, out.ravel())
    return out


def sum_leading_reference(x: np.ndarray, n: int) -> np.ndarray:
    return x.sum(axis=tuple(range(n)))


@njit(cache=True, nogil=True, fastmath=_SUM_FLAGS, error_model="numpy")
def _sum_all(x):
    """sum_i x[i] in float64 (reassociated, so that LLVM vectorises it)."""
    total = np.float64(0.0)
    for i in range(x.size):
        total += x[i]
    return total


def sum_all(x: np.ndarray) -> np.ndarray:
    """The sum of all elements, as a 0-d array of x's dtype (float32 accumulated in float64).

    >>> sum_all(np.full(10, 0.1, np.float32))
    array(1., dtype=float32)
    """
    _check_float(x)
    return np.array(_sum_all(_contiguous(x).ravel()), x.dtype)


def sum_all_reference(x: np.ndarray) -> np.ndarray:
    return np.asarray(x.sum(dtype=np.float64), x.dtype)
