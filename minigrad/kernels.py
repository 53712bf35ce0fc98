"""Every Numba kernel of minigrad, in one module: arrays in, arrays out.

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
vectorisable approximations that are accurate to 4e-7 relative (the API allows 1e-6).

Groups: matmul; unary forward; unary backward; binary; reductions.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

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
# matmul
# =============================================================================================
#
# C = A @ B is computed by rows of C, four at a time. For a block of four rows and four steps of
# k, sixteen scalars of A are held in registers and one pass over the columns of the row block
# does sixteen fused multiply-adds per column:
#
#     for j in range(w):                      # vectorised by LLVM, 8 float32 lanes per step
#         c0[j] += a00*b[k,j] + a01*b[k+1,j] + a02*b[k+2,j] + a03*b[k+3,j]
#         ... (rows 1-3 alike, sharing the four loads of b)
#
# Each element of C is loaded and stored once per four k-steps, each load of B serves four
# rows. Blocking keeps the working set in cache: k is cut into blocks so that a block of B
# (kc x w) stays in L2; products wider than _NC columns are cut into column panels, which are
# copied into a contiguous buffer ("packed"). A transposed A is packed too, four rows at a time.
#
# Transposed operands (the backward rules pass A.T and B.T views) are not copied by numpy: the
# wrapper passes the contiguous array underneath with a flag, and the packing reads it
# transposed.

_MR = 4  # rows of C computed together
_KU = 4  # k-steps unrolled per pass over a row block
_NC = 256  # widest column panel
_BLOCK_BYTES = 128 * 1024  # a block of B (kc x w) is at most this large
# Products of at least this many multiply-adds run on all Numba threads. Measured on 2 cores,
# float32: at 2**18 (16x128 @ 128x128) one thread is faster (~60 against ~50 GFLOP/s); at 2**19
# (32x128 @ 128x128) two threads are faster (~75 against ~60), and from 2**20 on 1.5-1.9x
# faster. The price of a thread pool: when another process holds the second core, a fork-join
# region can wait a whole scheduler time slice (milliseconds) for its worker, so on a busy
# machine NUMBA_NUM_THREADS=1 is the faster setting for small products.
_PARALLEL_MIN_MACS = 2**19


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _pack_a_t(a, i, rows, k0, kb, ap):
    """ap[r, k] = a[k0 + k, i + r] for r < rows, k < kb: rows of A = a.T, made contiguous."""
    for k in range(kb):
        src = a[k0 + k, i : i + rows]
        for r in range(rows):
            ap[r, k] = src[r]


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _pack_b(b, b_t, k0, kb, j0, w, bp):
    """bp[k, j] = B[k0 + k, j0 + j] for k < kb, j < w, where B = b.T if b_t else b.

    A transposed B is read eight rows of b at a time, so that each pass over k streams through
    eight contiguous rows instead of striding through all of them."""
    if not b_t:
        for k in range(kb):
            src = b[k0 + k, j0 : j0 + w]
            dst = bp[k]
            for j in range(w):
                dst[j] = src[j]
        return
    j = 0
    while j + 8 <= w:
        r0 = b[j0 + j, k0 : k0 + kb]
        r1 = b[j0 + j + 1, k0 : k0 + kb]
        r2 = b[j0 + j + 2, k0 : k0 + kb]
        r3 = b[j0 + j + 3, k0 : k0 + kb]
        r4 = b[j0 + j + 4, k0 : k0 + kb]
        r5 = b[j0 + j + 5, k0 : k0 + kb]
        r6 = b[j0 + j + 6, k0 : k0 + kb]
        r7 = b[j0 + j + 7, k0 : k0 + kb]
        for k in range(kb):
            dst = bp[k]
            dst[j] = r0[k]
            dst[j + 1] = r1[k]
            dst[j + 2] = r2[k]
            dst[j + 3] = r3[k]
            dst[j + 4] = r4[k]
            dst[j + 5] = r5[k]
            dst[j + 6] = r6[k]
            dst[j + 7] = r7[k]
        j += 8
    for jj in range(j, w):
        src = b[j0 + jj, k0 : k0 + kb]
        for k in range(kb):
            bp[k, jj] = src[k]


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _tile4(arows, bk, out, i, j0, w):
    """out[i:i+4, j0:j0+w] += arows[:4, :kb] @ bk[:kb, :w], kb = arows.shape[1].

    Loop nest: for k in steps of 4 (16 scalars of arows in registers) / for j < w (vectorised):
    four rows of out updated with four fused multiply-adds each."""
    c0 = out[i, j0 : j0 + w]
    c1 = out[i + 1, j0 : j0 + w]
    c2 = out[i + 2, j0 : j0 + w]
    c3 = out[i + 3, j0 : j0 + w]
    a0, a1, a2, a3 = arows[0], arows[1], arows[2], arows[3]
    kb = arows.shape[1]
    kq = kb - kb % _KU
    for k in range(0, kq, _KU):
        x00, x01, x02, x03 = a0[k], a0[k + 1], a0[k + 2], a0[k + 3]
        x10, x11, x12, x13 = a1[k], a1[k + 1], a1[k + 2], a1[k + 3]
        x20, x21, x22, x23 = a2[k], a2[k + 1], a2[k + 2], a2[k + 3]
        x30, x31, x32, x33 = a3[k], a3[k + 1], a3[k + 2], a3[k + 3]
        for j in range(w):
            b0, b1, b2, b3 = bk[k, j], bk[k + 1, j], bk[k + 2, j], bk[k + 3, j]
            t0 = c0[j] + x00 * b0 + x01 * b1 + x02 * b2 + x03 * b3
            t1 = c1[j] + x10 * b0 + x11 * b1 + x12 * b2 + x13 * b3
            t2 = c2[j] + x20 * b0 + x21 * b1 + x22 * b2 + x23 * b3
            t3 = c3[j] + x30 * b0 + x31 * b1 + x32 * b2 + x33 * b3
            c0[j], c1[j], c2[j], c3[j] = t0, t1, t2, t3  # stored after all loads of b
    for k in range(kq, kb):
        x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
        for j in range(w):
            bkj = bk[k, j]
            t0, t1, t2, t3 = c0[j] + x0 * bkj, c1[j] + x1 * bkj, c2[j] + x2 * bkj, c3[j] + x3 * bkj
            c0[j], c1[j], c2[j], c3[j] = t0, t1, t2, t3


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _tile1(arow, bk, out, i, j0, w):
    """out[i, j0:j0+w] += arow @ bk[:kb, :w], kb = arow.size: one row, for the rows left over by
    _tile4."""
    c = out[i, j0 : j0 + w]
    kb = arow.size
    kq = kb - kb % _KU
    for k in range(0, kq, _KU):
        x0, x1, x2, x3 = arow[k], arow[k + 1], arow[k + 2], arow[k + 3]
        for j in range(w):
            c[j] = c[j] + x0 * bk[k, j] + x1 * bk[k + 1, j] + x2 * bk[k + 2, j] + x3 * bk[k + 3, j]
    for k in range(kq, kb):
        x0 = arow[k]
        for j in range(w):
            c[j] = c[j] + x0 * bk[k, j]


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _matmul_rows(a, a_t, b, b_t, out, i0, i1):
    """out[i0:i1] = A[i0:i1] @ B for 2-D contiguous arrays, A = a.T if a_t else a, B likewise.

    Loop nest: column panels j0 (only when B is packed) / k-blocks k0 / row blocks of 4 /
    _tile4 (or _tile1 for leftover rows)."""
    K = a.shape[0] if a_t else a.shape[1]
    N = b.shape[0] if b_t else b.shape[1]
    out[i0:i1] = 0
    if N == 0 or K == 0:
        return
    pack = b_t or N > _NC
    w_max = min(N, _NC) if pack else N
    kc = max(_KU, _BLOCK_BYTES // (w_max * out.itemsize) // _KU * _KU)
    ap = np.empty((_MR, min(kc, K) if a_t else 0), out.dtype)
    panel = np.empty((min(kc, K) if pack else 0, w_max), out.dtype)
    for j0 in range(0, N, w_max):
        w = min(w_max, N - j0)
        for k0 in range(0, K, kc):
            kb = min(kc, K - k0)
            if pack:
                _pack_b(b, b_t, k0, kb, j0, w, panel)
                bk = panel[:kb]
            else:
                bk = b[k0 : k0 + kb]
            for i in range(i0, i1, _MR):
                rows = min(_MR, i1 - i)
                if a_t:
                    _pack_a_t(a, i, rows, k0, kb, ap)
                    arows = ap[:rows, :kb]
                else:
                    arows = a[i : i + rows, k0 : k0 + kb]
                if rows == _MR:
                    _tile4(arows, bk, out, i, j0, w)
                else:
                    for r in range(rows):
                        _tile1(arows[r], bk, out, i + r, j0, w)


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _matmul_serial(a, a_t, b, b_t, out):
    """out = A @ B on one thread (2-D arrays)."""
    _matmul_rows(a, a_t, b, b_t, out, 0, out.shape[0])


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _matmul_serial_batched(a, a_t, b, b_t, out):
    """out[p] = A[p] @ B[p] for each p of the batch axis, on one thread."""
    for p in range(out.shape[0]):
        _matmul_rows(a[p], a_t, b[p], b_t, out[p], 0, out.shape[1])


@njit(cache=True, fastmath=_FLAGS, error_model="numpy", parallel=True)
def _matmul_parallel(a, a_t, b, b_t, out, threads):
    """out[p] = A[p] @ B[p] (3-D arrays) on ``threads`` threads.

    The row blocks of all batch items, in order, are cut into ``threads`` runs of (nearly) equal
    length; thread t computes run t, one call of _matmul_rows per batch item the run touches."""
    M = out.shape[1]
    per_item = -(-M // _MR)  # row blocks per batch item
    total = out.shape[0] * per_item
    for t in prange(threads):
        start, stop = t * total // threads, (t + 1) * total // threads
        while start < stop:
            p, first = start // per_item, start % per_item
            last = min(per_item, first + stop - start)
            _matmul_rows(a[p], a_t, b[p], b_t, out[p], first * _MR, min(M, last * _MR))
            start += last - first


def _matmul_operand(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """A non-contiguous ``x`` as a C-contiguous array holding ``x`` or its transpose (last two
    axes), and which of the two it holds."""
    xt = np.swapaxes(x, -1, -2)
    if xt.flags.c_contiguous:
        return xt, True
    return np.ascontiguousarray(x), False


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a (M, K) @ b (K, N)`` or, batched, ``a (B, M, K) @ b (B, K, N)``, float32 or float64.

    C[p, i, j] = sum_k A[p, i, k] B[p, k, j]. Loop nest (see the comment above _MR): row blocks
    of 4 / k in steps of 4 / j vectorised, with k-blocks and column panels for the caches.
    Products of at least _PARALLEL_MIN_MACS multiply-adds run on all Numba threads. Any layout is
    accepted: transposed views are read in place, other strides are copied first.

    >>> matmul(np.ones((2, 3), np.float32), np.ones((3, 4), np.float32))[0]
    array([3., 3., 3., 3.], dtype=float32)
    """
    _check_pair(a, b)
    sa, sb = a.shape, b.shape
    ndim = len(sa)
    if ndim != len(sb) or ndim not in (2, 3):
        raise ValueError(f"matmul expects two 2-D or two 3-D arrays, received shapes {sa} and {sb}")
    if sa[-1] != sb[-2] or (ndim == 3 and sa[0] != sb[0]):
        raise ValueError(
            f"matmul: shapes {sa} and {sb} are not aligned: expected (M, K) @ (K, N) "
            "or (B, M, K) @ (B, K, N)"
        )
    batch, M, K, N = (sa[0] if ndim == 3 else 1), sa[-2], sa[-1], sb[-1]
    a_t = b_t = False
    if not a.flags.c_contiguous:
        a, a_t = _matmul_operand(a)
    if not b.flags.c_contiguous:
        b, b_t = _matmul_operand(b)
    out = np.empty((batch, M, N) if ndim == 3 else (M, N), a.dtype)
    if batch * M * N * K >= _PARALLEL_MIN_MACS and batch * M > _MR:
        threads = numba.get_num_threads()
        if threads > 1:
            if ndim == 2:
                a, b, out = a[None], b[None], out[None]  # (1, ., .) views
            _matmul_parallel(a, a_t, b, b_t, out, threads)
            return out if ndim == 3 else out[0]
    if ndim == 2:
        _matmul_serial(a, a_t, b, b_t, out)
    else:
        _matmul_serial_batched(a, a_t, b, b_t, out)
    return out


def matmul_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a, b)


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


# --- tanh: float32 rational approximation, float64 libm -------------------------------------
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


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _tanh_f32_scalar(x):
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


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _tanh_f32(x, out):
    """out[i] = tanh(x[i]) by the rational approximation (float32)."""
    for i in range(x.size):
        out[i] = _tanh_f32_scalar(x[i])


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _tanh_exact(x, out):
    for i in range(x.size):
        out[i] = np.tanh(x[i])


def tanh(x: np.ndarray) -> np.ndarray:
    """tanh(x), elementwise; float32 by a rational approximation (<= 4e-7 relative error).

    >>> tanh(np.array([0.0, 20.0], np.float32))
    array([0., 1.], dtype=float32)
    """
    return _unary(_tanh_f32 if x.itemsize == 4 else _tanh_exact, x)


def tanh_reference(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


# --- sigmoid: 1 / (1 + e^-x) through e^-|x|, which never overflows --------------------------
#
# sigmoid(x) = 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0, with e = exp(-|x|) in (0, 1].
# float64 takes e from libm. float32 computes e itself, vectorisably: |x| = k ln2 + r with k an
# integer and |r| <= ln2 / 2, e = 2^-k e^-r, e^-r by its Taylor polynomial of degree 7
# (truncation error < 6e-9), ln2 split in two parts so that k ln2 is exact (Cody and Waite), and
# 2^-k built from the binary digits of k by multiplying exact powers of two. The relative error
# of the float32 sigmoid is < 2e-7 wherever the result is a normal float (measured on a dense
# grid), also for x << 0, where 0.5 * (1 + tanh(x / 2)) would lose all relative accuracy.
_LOG2E32 = np.float32(1.4426950408889634)
_LN2_HI32 = np.float32(0.693145751953125)  # 16 significant bits: k * _LN2_HI32 is exact
_LN2_LO32 = np.float32(1.4286067653301870e-06)
_EXP_MAX_ARG32 = np.float32(104.0)  # e^-104 is below the smallest float32
_EXP_TAYLOR32 = tuple(
    np.float32(c) for c in (1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1.0, 1.0)
)
_POW2_STEPS32 = tuple(np.float32(2.0**e) for e in (7, 6, 5, 4, 3, 2, 1, 0))  # 128, 64, ..., 1
_POW2_NEG32 = tuple(np.float32(2.0 ** -(2.0**e)) for e in (7, 6, 5, 4, 3, 2, 1, 0))  # 2^-128, ...


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
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


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _sigmoid_f32(x, out):
    """out[i] = sigmoid(x[i]) with the float32 exp above."""
    for i in range(x.size):
        v = x[i]
        e = _exp_neg_f32(np.abs(v))
        out[i] = _ONE32 / (_ONE32 + e) if v >= _ZERO32 else e / (_ONE32 + e)


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _sigmoid_exact(x, out):
    for i in range(x.size):
        v = x[i]
        e = np.exp(-np.abs(v))
        out[i] = 1.0 / (1.0 + e) if v >= 0.0 else e / (1.0 + e)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), elementwise, stable for any x (no overflow).

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    return _unary(_sigmoid_f32 if x.itemsize == 4 else _sigmoid_exact, x)


def sigmoid_reference(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


# --- relu, exp, log, sqrt, abs ----------------------------------------------------------------


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
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


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _exp(x, out):
    for i in range(x.size):
        out[i] = np.exp(x[i])


def exp(x: np.ndarray) -> np.ndarray:
    """e**x, elementwise (libm, both dtypes).

    >>> exp(np.array([0.0]))
    array([1.])
    """
    return _unary(_exp, x)


def exp_reference(x: np.ndarray) -> np.ndarray:
    return np.exp(x)


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _log(x, out):
    for i in range(x.size):
        out[i] = np.log(x[i])


def log(x: np.ndarray) -> np.ndarray:
    """Natural logarithm, elementwise (log 0 = -inf, log of a negative number = NaN).

    >>> log(np.array([1.0]))
    array([0.])
    """
    return _unary(_log, x)


def log_reference(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _sqrt(x, out):
    for i in range(x.size):
        out[i] = np.sqrt(x[i])


def sqrt(x: np.ndarray) -> np.ndarray:
    """Square root, elementwise (NaN for negative numbers).

    >>> sqrt(np.array([4.0]))
    array([2.])
    """
    return _unary(_sqrt, x)


def sqrt_reference(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _abs(x, out):
    for i in range(x.size):
        out[i] = np.abs(x[i])


def abs(x: np.ndarray) -> np.ndarray:  # noqa: A001 (the op's public name)
    """|x|, elementwise.

    >>> abs(np.array([-1.5]))
    array([1.5])
    """
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


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _tanh_backward(y, g, out):
    for i in range(y.size):
        out[i] = g[i] * (_ONE32 - y[i] * y[i])


def tanh_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * (1 - y**2), with y = tanh(x)."""
    return _unary_backward(_tanh_backward, y, g)


def tanh_backward_reference(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * (1 - y * y)


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _sigmoid_backward(y, g, out):
    for i in range(y.size):
        out[i] = g[i] * y[i] * (_ONE32 - y[i])


def sigmoid_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * y * (1 - y), with y = sigmoid(x)."""
    return _unary_backward(_sigmoid_backward, y, g)


def sigmoid_backward_reference(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * y * (1 - y)


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _relu_backward(x, g, out):
    for i in range(x.size):
        out[i] = g[i] if x[i] > _ZERO32 else _ZERO32


def relu_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * (x > 0)."""
    return _unary_backward(_relu_backward, x, g)


def relu_backward_reference(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * (x > 0)


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _log_backward(x, g, out):
    for i in range(x.size):
        out[i] = g[i] / x[i]


def log_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g / x."""
    return _unary_backward(_log_backward, x, g)


def log_backward_reference(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return g / x


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _sqrt_backward(y, g, out):
    for i in range(y.size):
        out[i] = g[i] * np.float32(0.5) / y[i]


def sqrt_backward(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * 0.5 / y, with y = sqrt(x)."""
    return _unary_backward(_sqrt_backward, y, g)


def sqrt_backward_reference(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * 0.5 / y


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _abs_backward(x, g, out):
    for i in range(x.size):
        out[i] = g[i] * np.sign(x[i])


def abs_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g * sign(x) (0 at x = 0)."""
    return _unary_backward(_abs_backward, x, g)


def abs_backward_reference(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * np.sign(x)


# =============================================================================================
# binary: add, subtract, multiply, divide
# =============================================================================================
#
# Numba loops for the two hot cases: equal shapes (one flat loop), and "row broadcast", where
# one operand's shape, without leading 1s, is a suffix of the other's, e.g. (B, H) + (H,), the
# bias add of every RNN step (``for r in range(rows): for j in range(n): out[r, j] = a[r, j] op
# b[j]``, either operand being the small one). Every other broadcast falls back to the numpy
# ufunc, as do arrays that are not float32/float64. One kernel serves all four operations: the
# operation is an argument, and LLVM specialises the loop for each value (loop unswitching).

_ADD, _SUBTRACT, _MULTIPLY, _DIVIDE = 0, 1, 2, 3


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _apply(op, x, y):
    if op == _ADD:
        return x + y
    if op == _SUBTRACT:
        return x - y
    if op == _MULTIPLY:
        return x * y
    return x / y


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _binary_same(op, a, b, out):
    """out[i] = a[i] op b[i] over flat arrays of one size."""
    for i in range(out.size):
        out[i] = _apply(op, a[i], b[i])


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _binary_rows(op, big, small, small_first, out):
    """out[r, j] = big[r, j] op small[j] (or small[j] op big[r, j] when small_first), with big and
    out flat arrays of rows of length n = small.size; loop nest r / j (vectorised), or one flat
    loop when small is a single number."""
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
    if a.shape == b.shape:
        a, b = _contiguous(a), _contiguous(b)
        out = np.empty(a.shape, a.dtype)
        _binary_same(op, a.ravel(), b.ravel(), out.ravel())
        return out
    if _is_row(b.shape, a.shape):
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


# =============================================================================================
# reductions
# =============================================================================================
#
# float32 is accumulated in float64 and the result cast back: a sum over a million float32
# terms keeps ~7 significant digits instead of drifting by ~1e-4.


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _sum_rows(x, out):
    """out[j] = sum_r x[r, j]; loop nest r / j (vectorised), accumulating in float64."""
    rows, n = x.shape
    acc = np.zeros(n, np.float64)
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
    _sum_rows(x.reshape(-1, inner) if inner else x.reshape(0, 0), out.ravel())
    return out


def sum_leading_reference(x: np.ndarray, n: int) -> np.ndarray:
    return x.sum(axis=tuple(range(n)))


@njit(cache=True, fastmath=_SUM_FLAGS, error_model="numpy")
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
