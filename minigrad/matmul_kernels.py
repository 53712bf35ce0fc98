"""The matmul kernel: C = A @ B by register tiles of 4 rows x 4 steps of k, in Numba.

C[i, j] = sum_k A[i, k] B[k, j] is computed by rows of C, four at a time. For a block of four rows
and four steps of k, sixteen scalars of A are held in registers and one pass over the columns of
the row block does sixteen fused multiply-adds per column::

    for j in range(w):                      # vectorised by LLVM, 8 float32 lanes per step
        c0[j] += a00*b[k,j] + a01*b[k+1,j] + a02*b[k+2,j] + a03*b[k+3,j]
        ... (rows 1-3 alike, sharing the four loads of b)

Each element of C is loaded and stored once per four k-steps, each load of B serves four rows.
Blocking keeps the working set in cache: k is cut into blocks so that a block of B (kc x w) stays
in L2; products wider than _NC columns are cut into column panels, which are copied into a
contiguous buffer ("packed"). A transposed A is packed too, four rows at a time.

Transposed operands (the backward rules pass A.T and B.T views) are not copied by numpy: the
wrapper passes the contiguous array underneath with a flag, and the packing reads it transposed.

Conventions as in ``kernels.py`` (float32 or float64, both operands of one dtype, FMA contraction
only); ``matmul_reference`` is numpy's matmul. The sequence kernels of ``recurrent_kernels.py``
reuse the tiles (``_tile4``, ``_tile1``) and the block sizes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigrad import thread_pool
from minigrad.kernels import _FLAGS, _check_pair

_MR = 4  # rows of C computed together
_KU = 4  # k-steps unrolled per pass over a row block
_NC = 256  # widest column panel
_BLOCK_BYTES = 128 * 1024  # a block of B (kc x w) is at most this large
# Products of at least this many multiply-adds run on all the pool's threads (thread_pool.py).
# A fork-join of the pool costs ~20-35 us (handing a run to a worker thread and waiting for it),
# the time of a product of ~2**20 multiply-adds on one core at ~30 GMAC/s: from 2**21 on, two
# threads save more than the handoff costs. Measured on 2 busy cores, float32, (1600, 16) @
# (16, 64) (2**20.6): one thread 172 us, two 220 us. When another process holds the second
# core, a fork-join can wait a whole scheduler time slice (milliseconds) for its worker, so on a
# busy machine MINIGRAD_NUM_THREADS=1 is the faster setting.
_PARALLEL_MIN_MACS = 2**21


@njit(inline="always", fastmath=_FLAGS, error_model="numpy")
def _pack_a_t(a, i, rows, k0, kb, ap):
    """ap[r, k] = a[k0 + k, i + r] for r < rows, k < kb: rows of A = a.T, made contiguous."""
    for k in range(kb):
        src = a[k0 + k, i : i + rows]
        for r in range(rows):
            ap[r, k] = src[r]


@njit(inline="always", fastmath=_FLAGS, error_model="numpy")
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
def _tile4(arows, bk, c0, c1, c2, c3):
    """[c0; c1; c2; c3] += arows[:4, :kb] @ bk[:kb, :w], kb = arows.shape[1], w = c0.size: the
    four rows c0..c3 are a block of 4 rows of C, each a contiguous run of w columns.

    Loop nest: for k in steps of 4 (16 scalars of arows in registers) / for j < w (vectorised):
    four rows of C updated with four fused multiply-adds each."""
    a0, a1, a2, a3 = arows[0], arows[1], arows[2], arows[3]
    kb, w = arows.shape[1], c0.size
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
def _tile1(arow, bk, c):
    """c += arow @ bk[:kb, :w], kb = arow.size, w = c.size: one row of C, for the rows left over
    by _tile4."""
    kb, w = arow.size, c.size
    kq = kb - kb % _KU
    for k in range(0, kq, _KU):
        x0, x1, x2, x3 = arow[k], arow[k + 1], arow[k + 2], arow[k + 3]
        for j in range(w):
            c[j] = c[j] + x0 * bk[k, j] + x1 * bk[k + 1, j] + x2 * bk[k + 2, j] + x3 * bk[k + 3, j]
    for k in range(kq, kb):
        x0 = arow[k]
        for j in range(w):
            c[j] = c[j] + x0 * bk[k, j]


@njit(inline="always", fastmath=_FLAGS, error_model="numpy")
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
                    c0, c1 = out[i, j0 : j0 + w], out[i + 1, j0 : j0 + w]
                    c2, c3 = out[i + 2, j0 : j0 + w], out[i + 3, j0 : j0 + w]
                    _tile4(arows, bk, c0, c1, c2, c3)
                else:
                    for r in range(rows):
                        _tile1(arows[r], bk, out[i + r, j0 : j0 + w])


@njit(cache=True, nogil=True, fastmath=_FLAGS, error_model="numpy")
def _matmul_blocks(a, a_t, b, b_t, out, start, stop):
    """out[p] = A[p] @ B[p] (3-D arrays) for the row blocks ``start:stop`` of all batch items.

    The row blocks of 4 of all batch items, in order, are numbered 0, 1, ...; this computes the
    run ``start:stop`` of them, one call of _matmul_rows per batch item the run touches. One
    call with the run ``0:B*ceil(M/4)`` is the whole product; the thread pool gives each thread
    a run of its own (``thread_pool.run_split``)."""
    M = out.shape[1]
    per_item = -(-M // _MR)  # row blocks per batch item
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

    C[p, i, j] = sum_k A[p, i, k] B[p, k, j]. Loop nest (see the module docstring): row blocks
    of 4 / k in steps of 4 / j vectorised, with k-blocks and column panels for the caches.
    Products of at least _PARALLEL_MIN_MACS multiply-adds share their row blocks among the
    pool's threads. Any layout is accepted: transposed views are read in place, other strides
    are copied first.

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
    blocks = batch * -(-M // _MR)  # row blocks of 4, over all batch items
    threads = 1
    if batch * M * N * K >= _PARALLEL_MIN_MACS and blocks > 1:
        threads = min(thread_pool.num_threads(), blocks)
    if ndim == 2:
        a, b, out3 = a[None], b[None], out[None]  # (1, ., .) views: one kernel for both cases
    else:
        out3 = out
    thread_pool.run_split(_matmul_blocks, (a, a_t, b, b_t, out3), blocks, threads)
    return out


def matmul_reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.matmul(a, b)
