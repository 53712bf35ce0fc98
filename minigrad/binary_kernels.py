"""The binary elementwise kernels: add, subtract, multiply, divide, with numpy broadcasting.

One Numba loop for the two hot cases: "row broadcast", where one operand's shape, without
leading 1s, is a suffix of the other's, e.g. (B, H) + (H,), the bias add of every RNN step::

    for r in range(rows):
        for j in range(n):          # vectorised
            out[r, j] = a[r, j] op b[j]

(either operand being the small one), and equal shapes, which are the same loop with a single
row. Every other broadcast falls back to the numpy ufunc, as do arrays that are not
float32/float64. One kernel serves all four operations: the operation is an argument, and LLVM
specialises the loop for each value (loop unswitching).

Conventions as in ``kernels.py``: a Python wrapper per kernel, next to its plain-numpy
``_reference``; operands of one dtype; FMA contraction only; IEEE results (x / 0 = +-inf).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigrad.kernels import _FLAGS, _check_pair, _contiguous, _is_float

_ADD, _SUBTRACT, _MULTIPLY, _DIVIDE = 0, 1, 2, 3


@njit(inline="always", fastmath=_FLAGS, error_model="numpy")
def _apply(op, x, y):
    if op == _ADD:
        return x + y
    if op == _SUBTRACT:
        return x - y
    if op == _MULTIPLY:
        return x * y
    return x / y


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _binary_rows(op, big, small, small_first, out):
    """out[r, j] = big[r, j] op small[j] (or small[j] op big[r, j] when small_first), with big and
    out flat arrays of rows of length n = small.size; loop nest r / j (vectorised), or one flat
    loop when small is a single number. Equal shapes are one row (n = big.size)."""
    n = small.size
    if n == 1:  # a scalar: one flat loop
        s = small[0]
        for i in range(big.size):
            out[i] = _apply(op, s, big[i]) if small_first else _apply(op, big[i], s)
        return
    for r in range(big.size // n):
        x, o = big[r * n : r * n + n], out[r * n : r * n + n]
        if small_first:
            for j in range(n):
                o[j] = _apply(op, small[j], x[j])
        else:
            for j in range(n):
                o[j] = _apply(op, x[j], small[j])


def _is_row(small: tuple, big: tuple) -> bool:
    """Whether ``small``, without its leading 1s, is a proper suffix of ``big`` (so that
    broadcasting gives ``big``)."""
    if len(small) > len(big):
        return False
    while small and small[0] == 1:
        small = small[1:]
    return len(small) < len(big) and big[len(big) - len(small) :] == small


def _binary(op: int, ufunc, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype is not b.dtype and a.dtype != b.dtype:
        _check_pair(a, b)  # raises the TypeError
    if not _is_float(a.dtype):
        return ufunc(a, b)
    if a.shape == b.shape or _is_row(b.shape, a.shape):
        big, small, small_first = a, b, False
    elif _is_row(a.shape, b.shape):
        big, small, small_first = b, a, True
    else:
        return ufunc(a, b)
    if small.size == 0:
        return ufunc(a, b)
    big, small = _contiguous(big), _contiguous(small)
    out = np.empty(big.shape, big.dtype)
    _binary_rows(op, big.ravel(), small.ravel(), small_first, out.ravel())
    return out


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b with numpy broadcasting.

    >>> add(np.ones((2, 3)), np.arange(3.0))[1]
    array([1., 2., 3.])
    """
    return _binary(_ADD, np.add, a, b)


def add_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.add(a, b)


def subtract(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a - b with numpy broadcasting."""
    return _binary(_SUBTRACT, np.subtract, a, b)


def subtract_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.subtract(a, b)


def multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a * b with numpy broadcasting."""
    return _binary(_MULTIPLY, np.multiply, a, b)


def multiply_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.multiply(a, b)


def divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b with numpy broadcasting (x / 0 = +-inf, 0 / 0 = NaN)."""
    return _binary(_DIVIDE, np.divide, a, b)


def divide_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(a, b)
