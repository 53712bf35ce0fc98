"""float32 tanh and sigmoid without libm: approximations that LLVM can vectorise.

A call of libm's ``tanhf`` or ``expf`` is a scalar call, which keeps a loop from being vectorised.
The two functions below compute in plain float32 arithmetic (polynomials, a division,
comparisons), so the loops of ``kernels.py`` that call them, ``for i in range(n): out[i] =
tanh_f32(x[i])``, run 8 lanes at a time. Both stay within 4e-7 of the
exact value, relative (the API allows 1e-6); ``tests/test_kernels.py`` measures this on a dense
grid. float64 keeps libm (``kernels.py``), and so do all other ops.

The kernels' floating-point setting: ``fastmath`` limited to ``contract`` (fused multiply-add,
inf/NaN semantics kept) and ``error_model="numpy"`` (IEEE results instead of exceptions).
The functions are scalar and ``inline="always"``: Numba pastes them into the loop that calls
them instead of compiling them on their own.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FLAGS = {"contract"}  # kernels.py's setting; this module sits below kernels.py
_INLINE = {"inline": "always", "fastmath": _FLAGS, "error_model": "numpy"}
_ZERO32 = np.float32(0.0)
_ONE32 = np.float32(1.0)

# --- tanh: a rational function of x --------------------------------------------------------
#
# For |x| < 9, tanh(x) ~ x P(x^2) / Q(x^2) with P of degree 5 and Q of degree 4 in x^2, fitted to
# tanh on [0, 9] for the smallest maximum relative error (iteratively reweighted least squares;
# 9e-9 in exact arithmetic, 3e-7 as evaluated here in float32, on a dense grid). For |x| >= 9
# the float32 value of tanh is exactly +-1, which is returned; NaN passes through.
_TANH_CLAMP = np.float32(9.0)
_TANH_P = tuple(
    np.float32(c)
    for c in (
        0.9999999965615468,
        0.13648834448960973,
        0.003829861158765794,
        2.726150370385251e-05,
        2.891517422225014e-08,
        -1.1078559038884512e-11,
    )
)
_TANH_Q = tuple(
    np.float32(c)
    for c in (
        1.0,
        0.4698216257771085,
        0.027103809803964634,
        0.0003871874368969183,
        1.2368924495562908e-06,
    )
)


@njit(**_INLINE)
def tanh_f32(x):
    """tanh(x) for a float32 x by the rational approximation."""
    if x >= _TANH_CLAMP:
        return _ONE32
    if x <= -_TANH_CLAMP:
        return -_ONE32
    s = x * x
    p = _TANH_P[5]
    for c in (_TANH_P[4], _TANH_P[3], _TANH_P[2], _TANH_P[1], _TANH_P[0]):
        p = p * s + c
    q = _TANH_Q[4]
    for c in (_TANH_Q[3], _TANH_Q[2], _TANH_Q[1], _TANH_Q[0]):
        q = q * s + c
    return x * p / q


# --- sigmoid: through e^-|x| by a polynomial ------------------------------------------------
#
# sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, with e = exp(-|x|) in (0, 1]
# (never overflows). The float64 loop takes e from libm; float32 computes e itself, vectorisably:
# |x| = k ln2 + r with k an integer and |r| <= ln2 / 2, e = 2^-k e^-r, e^-r by its Taylor
# polynomial of degree 7 (truncation error < 6e-9), ln2 split in two parts so that k ln2 is exact
# (Cody and Waite), and 2^-k built from the binary digits of k by multiplying exact powers of
# two. The relative error of the float32 sigmoid is < 2e-7 wherever the result is a normal float
# (measured on a dense grid), also for x << 0, where 0.5 * (1 + tanh(x / 2)) would lose all
# relative accuracy.
_LOG2E32 = np.float32(1.4426950408889634)
_LN2_HI32 = np.float32(0.693145751953125)  # 16 significant bits: k * _LN2_HI32 is exact
_LN2_LO32 = np.float32(1.4286067653301870e-06)
_EXP_MAX_ARG32 = np.float32(104.0)  # e^-104 is below the smallest float32
_EXP_TAYLOR32 = tuple(
    np.float32(c) for c in (1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1.0, 1.0)
)
_POW2_STEPS32 = tuple(np.float32(2.0**e) for e in (7, 6, 5, 4, 3, 2, 1, 0))  # 128, 64, ..., 1
_POW2_NEG32 = tuple(np.float32(2.0 ** -(2.0**e)) for e in (7, 6, 5, 4, 3, 2, 1, 0))  # 2^-128, ...


@njit(**_INLINE)
def _exp_neg_f32(t):
    """e^-t for float32 t >= 0 (inf gives 0, NaN gives NaN), vectorisable."""
    if t > _EXP_MAX_ARG32:
        t = _EXP_MAX_ARG32
    k = np.floor(t * _LOG2E32 + np.float32(0.5))  # an integer in [0, 150]
    u = (k * _LN2_HI32 - t) + k * _LN2_LO32  # -r
    p = _EXP_TAYLOR32[0]
    for c in _EXP_TAYLOR32[1:]:
        p = p * u + c
    scale = _ONE32  # 2^-k from the binary digits of k
    for n in range(len(_POW2_STEPS32)):
        if k >= _POW2_STEPS32[n]:
            k -= _POW2_STEPS32[n]
            scale *= _POW2_NEG32[n]
    return p * scale


@njit(**_INLINE)
def sigmoid_f32(x):
    """sigmoid(x) for a float32 x, with the float32 exp above."""
    e = _exp_neg_f32(np.abs(x))
    return _ONE32 / (_ONE32 + e) if x >= _ZERO32 else e / (_ONE32 + e)
