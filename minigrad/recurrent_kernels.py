"""Numba kernels for whole sequences of the built-in recurrent cells: arrays in, arrays out.

These serve the fused ops of ``recurrent.py`` (one tape record per sequence). Each cell has a
forward kernel, which runs the recurrence and keeps what backpropagation needs, and a backward
kernel, which runs BPTT in reverse and returns the gradients with respect to the gate
pre-activations of every step. Everything that is not sequential is a large matmul elsewhere
(the input projection ``x @ kernel`` for all steps, made by the caller, and the recurrent
kernel's gradient, in ``recurrent.py``), so the kernels here hold only the recurrence itself.

Layout: time-major. ``xw (T, B, G*H)`` is ``x_t @ kernel + bias`` for every step (G gates of H
units, Keras gate order), ``keep (T, B)`` the mask (True = the step updates the row), and ``hs
(T + 1, B, H)`` the carried state: ``hs[0]`` is the initial state, ``hs[t + 1]`` the state after
step t (equal to ``hs[t]`` on a row whose step t is masked). Gradients: ``dhs (T, B, H)`` is
dL/d``hs[1:]`` (the step outputs), and the carried gradients ``dh`` (and the LSTM's ``dc``)
start as those of the final states; truncated BPTT with ``truncate > 0`` zeroes the gradient
carried from step t back to step t - 1 whenever ``t % truncate == 0``.

Threads: the rows of a batch never interact, so each kernel computes the rows ``i0:i1`` only,
through the whole time loop, and the wrappers hand each thread of ``thread_pool.py`` a run of
rows (a multiple of 4, the matmul's row block): one fork-join per sequence, no barrier per step.
Small sequences run on one thread (see :func:`threads_for`). The kernels release the GIL
(``nogil=True``).

The wrappers at the end hand the kernels C-contiguous arrays only (a weight in another layout is
copied first): each kernel then compiles once per dtype, and its row loops vectorise.

The reference: ``recurrent_reference.py``, the same forward and BPTT loops in plain numpy, one
line per equation (``simple_rnn_backward``, ``lstm_backward``, ``gru_backward``), which is where
to read what these kernels compute; tests/rnn/test_sequence_ops.py checks the kernels against it,
tests/rnn/test_fused.py against the per-step cells on the tape (every cell and RNN feature, in
float64, to 1e-10), and both are checked against finite differences.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from minigrad import thread_pool
from minigrad.kernels import _FLAGS, _sigmoid, _tanh
from minigrad.matmul_kernels import _BLOCK_BYTES, _KU, _MR, _PARALLEL_MIN_MACS, _tile1, _tile4

_KERNEL = {"cache": True, "nogil": True, "fastmath": _FLAGS, "error_model": "numpy"}
_INLINE = {"inline": "always", "fastmath": _FLAGS, "error_model": "numpy"}


def threads_for(batch: int, steps: int, units: int, width: int) -> int:
    """How many threads a sequence kernel uses: all of the pool's when the recurrent products
    (``steps`` of ``(batch, units) @ (units, width)``) reach the matmul's threshold and there
    are at least two row blocks to share, else one."""
    if batch * units * width * steps < _PARALLEL_MIN_MACS or batch <= _MR:
        return 1
    return min(thread_pool.num_threads(), -(-batch // _MR))


# --------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------


@njit(cache=True, fastmath=_FLAGS, error_model="numpy")
def _rows_matmul(a, b, out, i0, i1):
    """out[i0:i1] = a[i0:i1] @ b for C-contiguous 2-D arrays, b never packed or transposed.

    The recurrent product of every step: ``b`` (a recurrent kernel or its transpose, made
    contiguous once per sequence) is read in k-blocks that stay in cache, and the rows in blocks
    of 4 by the matmul's register tiles (matmul_kernels.py, _tile4)."""
    K, N = b.shape
    out[i0:i1] = 0
    kc = max(_KU, _BLOCK_BYTES // (N * out.itemsize) // _KU * _KU)
    for k0 in range(0, K, kc):
        kb = min(kc, K - k0)
        bk = b[k0 : k0 + kb]
        for i in range(i0, i1, _MR):
            rows = min(_MR, i1 - i)
            arows = a[i : i + rows, k0 : k0 + kb]
            if rows == _MR:
                _tile4(arows, bk, out[i], out[i + 1], out[i + 2], out[i + 3])
            else:
                for r in range(rows):
                    _tile1(arows[r], bk, out[i + r])


@njit(**_INLINE)
def _copy(src, dst):
    """dst[j] = src[j] for 1-D arrays of one size (a loop: an array assignment would compile
    Numba's shape-mismatch error message, strings and all)."""
    for j in range(dst.size):
        dst[j] = src[j]


# --------------------------------------------------------------------------------------------
# SimpleRNN: h_t = tanh(xw_t + h_{t-1} @ U)
# --------------------------------------------------------------------------------------------


@njit(**_KERNEL)
def _simple_rnn_forward(xw, u, keep, hs, i0, i1):
    """For t < T, kept rows: hs[t+1] = tanh(xw[t] + hs[t] @ u); masked rows: hs[t+1] = hs[t]."""
    T, B = keep.shape
    z = np.empty((B, u.shape[1]), hs.dtype)  # rows i0:i1 used
    for t in range(T):
        _rows_matmul(hs[t], u, z, i0, i1)
        for b in range(i0, i1):
            if keep[t, b]:
                zr, xr = z[b], xw[t, b]
                for j in range(zr.size):
                    zr[j] += xr[j]
                _tanh(zr, hs[t + 1, b])
            else:
                _copy(hs[t, b], hs[t + 1, b])


@njit(**_KERNEL)
def _simple_rnn_backward(u_t, keep, hs, dhs, dz, dh, truncate, i0, i1):
    """Reverse loop carrying dh (B, H), which starts as dL/dh_T and ends as dL/dh0.

    Kept rows: dh += dhs[t]; dz[t] = dh * (1 - hs[t+1]^2); dh = dz[t] @ U^T. Masked rows:
    dh += dhs[t]; dz[t] = 0; dh passes to step t - 1 unchanged."""
    T, B = keep.shape
    dh_prev = np.empty((B, u_t.shape[1]), dh.dtype)  # rows i0:i1 used
    for t in range(T - 1, -1, -1):
        for b in range(i0, i1):
            dhr, dzr, h = dh[b], dz[t, b], hs[t + 1, b]
            for j in range(dhr.size):
                dhr[j] += dhs[t, b, j]
            if keep[t, b]:
                for j in range(dhr.size):
                    dzr[j] = dhr[j] * (1 - h[j] * h[j])
            else:
                dzr[:] = 0
        _rows_matmul(dz[t], u_t, dh_prev, i0, i1)
        _carry_back(keep, dh, dh_prev, t, truncate, i0, i1)


@njit(**_INLINE)
def _cut(t, truncate):
    """Whether truncated BPTT stops the gradient between step t and step t - 1."""
    return truncate > 0 and t > 0 and t % truncate == 0


@njit(**_INLINE)
def _carry_back(keep, dh, dh_prev, t, truncate, i0, i1):
    """Hand the gradient of step t to step t - 1: kept rows take ``dh_prev`` (the gradient
    through the step), masked rows keep ``dh``; at a truncation boundary it becomes zero."""
    cut = _cut(t, truncate)
    for b in range(i0, i1):
        if cut:
            dh[b] = 0
        elif keep[t, b]:
            _copy(dh_prev[b], dh[b])


# --------------------------------------------------------------------------------------------
# LSTM, gates i f c o: z = xw_t + h_{t-1} @ U; i, f, o = sigmoid; g = tanh;
# c_t = f c_{t-1} + i g; h_t = o tanh(c_t)
# --------------------------------------------------------------------------------------------


@njit(**_KERNEL)
def _lstm_forward(xw, u, keep, hs, cs, acts, tanh_c, i0, i1):
    """Fills hs, cs (T+1, B, H) from hs[0], cs[0]; acts (T, B, 4H) the activated gates i f g o,
    tanh_c (T, B, H) = tanh(c_t). Masked rows carry h and c (acts, tanh_c left unset)."""
    T, B = keep.shape
    H = u.shape[0]
    z = np.empty((B, 4 * H), hs.dtype)
    for t in range(T):
        _rows_matmul(hs[t], u, z, i0, i1)
        for b in range(i0, i1):
            if not keep[t, b]:
                _copy(hs[t, b], hs[t + 1, b])
                _copy(cs[t, b], cs[t + 1, b])
                continue
            zr, xr, a = z[b], xw[t, b], acts[t, b]
            for j in range(4 * H):
                zr[j] += xr[j]
            _sigmoid(zr[: 2 * H], a[: 2 * H])
            _tanh(zr[2 * H : 3 * H], a[2 * H : 3 * H])
            _sigmoid(zr[3 * H :], a[3 * H :])
            c_prev, c, tc, h = cs[t, b], cs[t + 1, b], tanh_c[t, b], hs[t + 1, b]
            for j in range(H):
                c[j] = a[H + j] * c_prev[j] + a[j] * a[2 * H + j]
            _tanh(c, tc)
            for j in range(H):
                h[j] = a[3 * H + j] * tc[j]


@njit(**_KERNEL)
def _lstm_backward(u_t, keep, cs, acts, tanh_c, dhs, dz, dh, dc, truncate, i0, i1):
    """Reverse loop carrying dh and dc (B, H), which start as dL/dh_T and dL/dc_T and end as the
    gradients of the initial states. For a kept row, with dh += dhs[t]::

        dc += dh o (1 - tanh(c)^2)
        dz[t] = [dc g i(1-i), dc c_{t-1} f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]
        dc = dc f;  dh = dz[t] @ U^T
    """
    T, B = keep.shape
    H = u_t.shape[1]
    dh_prev = np.empty((B, H), dh.dtype)
    for t in range(T - 1, -1, -1):
        for b in range(i0, i1):
            dhr, dcr, dzr = dh[b], dc[b], dz[t, b]
            for j in range(H):
                dhr[j] += dhs[t, b, j]
            if not keep[t, b]:
                dzr[:] = 0
                continue
            a, tc, c_prev = acts[t, b], tanh_c[t, b], cs[t, b]
            for j in range(H):
                i, f, g, o = a[j], a[H + j], a[2 * H + j], a[3 * H + j]
                dcj = dcr[j] + dhr[j] * o * (1 - tc[j] * tc[j])
                dzr[j] = dcj * g * i * (1 - i)
                dzr[H + j] = dcj * c_prev[j] * f * (1 - f)
                dzr[2 * H + j] = dcj * i * (1 - g * g)
                dzr[3 * H + j] = dhr[j] * tc[j] * o * (1 - o)
                dcr[j] = dcj * f
        _rows_matmul(dz[t], u_t, dh_prev, i0, i1)
        _carry_back(keep, dh, dh_prev, t, truncate, i0, i1)
        if _cut(t, truncate):
            dc[i0:i1] = 0


# --------------------------------------------------------------------------------------------
# GRU, gates z r h: h_t = hh + z (h_{t-1} - hh)
#   reset_after=True:  p = h_{t-1} @ U + b_rec; z, r = sigmoid(xw_zr + p_zr);
#                      hh = tanh(xw_h + r p_h)
#   reset_after=False: z, r = sigmoid(xw_zr + h_{t-1} @ U_zr); hh = tanh(xw_h + (r h_{t-1}) @ U_h)
# --------------------------------------------------------------------------------------------


@njit(**_KERNEL)
def _gru_forward(xw, u, b_rec, keep, hs, acts, p_h, i0, i1):
    """reset_after=True. Fills hs (T+1, B, H) from hs[0]; acts (T, B, 3H) = z, r, hh and p_h
    (T, B, H) = h_{t-1} @ U_h + b_rec_h, for kept rows. ``b_rec`` (3H,) may be zeros."""
    T, B = keep.shape
    H = u.shape[0]
    p = np.empty((B, 3 * H), hs.dtype)
    pre = np.empty(H, hs.dtype)
    for t in range(T):
        _rows_matmul(hs[t], u, p, i0, i1)
        for b in range(i0, i1):
            if not keep[t, b]:
                _copy(hs[t, b], hs[t + 1, b])
                continue
            pr, xr, a, ph = p[b], xw[t, b], acts[t, b], p_h[t, b]
            for j in range(2 * H):
                pr[j] += xr[j] + b_rec[j]
            _sigmoid(pr[: 2 * H], a[: 2 * H])
            for j in range(H):
                ph[j] = pr[2 * H + j] + b_rec[2 * H + j]
                pre[j] = xr[2 * H + j] + a[H + j] * ph[j]
            _tanh(pre, a[2 * H :])
            h_prev, h = hs[t, b], hs[t + 1, b]
            for j in range(H):
                hh = a[2 * H + j]
                h[j] = hh + a[j] * (h_prev[j] - hh)


@njit(**_KERNEL)
def _gru_backward(u_t, keep, hs, acts, p_h, dhs, dxw, dp, dh, truncate, i0, i1):
    """reset_after=True. Reverse loop carrying dh (dL/dh_T at the start, dL/dh0 at the end).
    For a kept row, with dh += dhs[t] and dhh = dh (1 - z)(1 - hh^2)::

        dxw[t] = [dh (h_{t-1} - hh) z(1-z), dhh p_h r(1-r), dhh]    (gradient of xw_t)
        dp[t]  = [same, same, dhh r]                                 (gradient of p)
        dh = dh z + dp[t] @ U^T
    """
    T, B = keep.shape
    H = u_t.shape[1]
    dh_prev = np.empty((B, H), dh.dtype)
    for t in range(T - 1, -1, -1):
        for b in range(i0, i1):
            dhr, dx, dpr = dh[b], dxw[t, b], dp[t, b]
            for j in range(H):
                dhr[j] += dhs[t, b, j]
            if not keep[t, b]:
                dx[:] = 0
                dpr[:] = 0
                continue
            a, ph, h_prev = acts[t, b], p_h[t, b], hs[t, b]
            for j in range(H):
                z, r, hh = a[j], a[H + j], a[2 * H + j]
                dhh = dhr[j] * (1 - z) * (1 - hh * hh)
                dzj = dhr[j] * (h_prev[j] - hh) * z * (1 - z)
                drj = dhh * ph[j] * r * (1 - r)
                dx[j], dx[H + j], dx[2 * H + j] = dzj, drj, dhh
                dpr[j], dpr[H + j], dpr[2 * H + j] = dzj, drj, dhh * r
                dhr[j] = dhr[j] * z
        _rows_matmul(dp[t], u_t, dh_prev, i0, i1)
        _carry_back_added(keep, dh, dh_prev, t, truncate, i0, i1)


@njit(**_KERNEL)
def _gru_forward_reset_before(xw, u_zr, u_h, keep, hs, acts, rh, i0, i1):
    """reset_after=False. Fills hs (T+1, B, H) from hs[0]; acts (T, B, 3H) = z, r, hh and
    rh (T, B, H) = r h_{t-1} (zero on masked rows)."""
    T, B = keep.shape
    H = u_h.shape[0]
    p = np.empty((B, 2 * H), hs.dtype)
    q = np.empty((B, H), hs.dtype)
    for t in range(T):
        _rows_matmul(hs[t], u_zr, p, i0, i1)
        for b in range(i0, i1):
            if not keep[t, b]:
                rh[t, b] = 0
                continue
            pr, xr, a, h_prev = p[b], xw[t, b], acts[t, b], hs[t, b]
            for j in range(2 * H):
                pr[j] += xr[j]
            _sigmoid(pr, a[: 2 * H])
            for j in range(H):
                rh[t, b, j] = a[H + j] * h_prev[j]
        _rows_matmul(rh[t], u_h, q, i0, i1)
        for b in range(i0, i1):
            if not keep[t, b]:
                _copy(hs[t, b], hs[t + 1, b])
                continue
            qr, xr, a, h_prev, h = q[b], xw[t, b], acts[t, b], hs[t, b], hs[t + 1, b]
            for j in range(H):
                qr[j] += xr[2 * H + j]
            _tanh(qr, a[2 * H :])
            for j in range(H):
                hh = a[2 * H + j]
                h[j] = hh + a[j] * (h_prev[j] - hh)


@njit(**_KERNEL)
def _gru_backward_reset_before(u_zr_t, u_h_t, keep, hs, acts, dhs, dzr, dhh, dh, truncate, i0, i1):
    """reset_after=False. Reverse loop carrying dh. For a kept row, with dh += dhs[t]::

    dhh[t] = dh (1 - z)(1 - hh^2);   d(rh) = dhh[t] @ U_h^T
    dzr[t] = [dh (h_{t-1} - hh) z(1-z), d(rh) h_{t-1} r(1-r)]
    dh = dh z + d(rh) r + dzr[t] @ U_zr^T
    """
    T, B = keep.shape
    H = u_h_t.shape[1]
    drh = np.empty((B, H), dh.dtype)
    dh_prev = np.empty((B, H), dh.dtype)
    for t in range(T - 1, -1, -1):
        for b in range(i0, i1):
            dhr, dg, dc = dh[b], dzr[t, b], dhh[t, b]
            for j in range(H):
                dhr[j] += dhs[t, b, j]
            if not keep[t, b]:
                dg[:] = 0
                dc[:] = 0
                continue
            a, h_prev = acts[t, b], hs[t, b]
            for j in range(H):
                z, hh = a[j], a[2 * H + j]
                dc[j] = dhr[j] * (1 - z) * (1 - hh * hh)
                dg[j] = dhr[j] * (h_prev[j] - hh) * z * (1 - z)
        _rows_matmul(dhh[t], u_h_t, drh, i0, i1)
        for b in range(i0, i1):
            if not keep[t, b]:
                continue
            dhr, dg, a, h_prev, d = dh[b], dzr[t, b], acts[t, b], hs[t, b], drh[b]
            for j in range(H):
                z, r = a[j], a[H + j]
                dg[H + j] = d[j] * h_prev[j] * r * (1 - r)
                dhr[j] = dhr[j] * z + d[j] * r
        _rows_matmul(dzr[t], u_zr_t, dh_prev, i0, i1)
        _carry_back_added(keep, dh, dh_prev, t, truncate, i0, i1)


@njit(**_INLINE)
def _carry_back_added(keep, dh, dh_prev, t, truncate, i0, i1):
    """As _carry_back, for cells whose state also reaches the next step directly (the GRU's
    ``z h_{t-1}``): kept rows add ``dh_prev`` to the direct part already in ``dh``."""
    cut = _cut(t, truncate)
    for b in range(i0, i1):
        if cut:
            dh[b] = 0
        elif keep[t, b]:
            dhr, dpr = dh[b], dh_prev[b]
            for j in range(dhr.size):
                dhr[j] += dpr[j]


# --------------------------------------------------------------------------------------------
# the wrappers: allocate, call, return
# --------------------------------------------------------------------------------------------


def _states(h0: np.ndarray, steps: int) -> np.ndarray:
    """``(T + 1, B, H)`` with ``[0] = h0``, the rest to be filled by a forward kernel."""
    hs = np.empty((steps + 1,) + h0.shape, h0.dtype)
    hs[0] = h0
    return hs


def _run(kernel, u: np.ndarray, keep: np.ndarray, *args) -> None:
    """``kernel(*args, i0, i1)`` for runs of the batch rows, one run per thread (as many threads
    as :func:`threads_for` the recurrent kernel ``u`` allows)."""
    steps, batch = keep.shape
    threads = threads_for(batch, steps, u.shape[0], u.shape[1])
    thread_pool.run_split(kernel, args, batch, threads, grain=_MR)


def simple_rnn_forward(xw, u, keep, h0) -> np.ndarray:
    """``hs (T + 1, B, H)`` of ``h_t = tanh(xw[t] + h_{t-1} @ u)`` (masked rows carry h)."""
    hs = _states(h0, keep.shape[0])
    _run(_simple_rnn_forward, u, keep, xw, np.ascontiguousarray(u), keep, hs)
    return hs


def _carry(d_last: np.ndarray) -> np.ndarray:
    """A fresh contiguous copy of a final state's gradient: the carry the kernel updates."""
    return np.array(d_last, order="C")


def simple_rnn_backward(u, keep, hs, dhs, dh_last, truncate):
    """``(dz (T, B, H), dh0 (B, H))``: gradients of the pre-activations and of ``h0``, from
    those of the outputs ``dhs`` and of the final state ``dh_last``."""
    dhs = np.ascontiguousarray(dhs)
    dz = np.empty(dhs.shape, dhs.dtype)
    dh = _carry(dh_last)
    u_t = np.ascontiguousarray(u.T)
    _run(_simple_rnn_backward, u, keep, u_t, keep, hs, dhs, dz, dh, truncate)
    return dz, dh


def lstm_forward(xw, u, keep, h0, c0):
    """``(hs, cs, acts, tanh_c)``: states ``(T + 1, B, H)`` and the caches of the backward."""
    steps, (batch, units) = keep.shape[0], h0.shape
    hs, cs = _states(h0, steps), _states(c0, steps)
    acts = np.empty((steps, batch, 4 * units), h0.dtype)
    tanh_c = np.empty((steps, batch, units), h0.dtype)
    _run(_lstm_forward, u, keep, xw, np.ascontiguousarray(u), keep, hs, cs, acts, tanh_c)
    return hs, cs, acts, tanh_c


def lstm_backward(u, keep, cs, acts, tanh_c, dhs, dh_last, dc_last, truncate):
    """``(dz (T, B, 4H), dh0, dc0)`` from dL/d(outputs) ``dhs`` and the final states'
    gradients."""
    dhs = np.ascontiguousarray(dhs)
    dz = np.empty(acts.shape, acts.dtype)
    dh, dc = _carry(dh_last), _carry(dc_last)
    u_t = np.ascontiguousarray(u.T)
    _run(_lstm_backward, u, keep, u_t, keep, cs, acts, tanh_c, dhs, dz, dh, dc, truncate)
    return dz, dh, dc


def gru_forward(xw, u, b_rec, keep, h0):
    """reset_after=True: ``(hs, acts, p_h)``; ``b_rec (3H,)`` the recurrent bias (zeros if
    none)."""
    steps, (batch, units) = keep.shape[0], h0.shape
    hs = _states(h0, steps)
    acts = np.empty((steps, batch, 3 * units), h0.dtype)
    p_h = np.empty((steps, batch, units), h0.dtype)
    _run(_gru_forward, u, keep, xw, np.ascontiguousarray(u), b_rec, keep, hs, acts, p_h)
    return hs, acts, p_h


def gru_backward(u, keep, hs, acts, p_h, dhs, dh_last, truncate):
    """reset_after=True: ``(dxw, dp, dh0)``, the gradients of ``xw`` and of ``p = h @ U +
    b_rec`` (T, B, 3H) and of ``h0``."""
    dhs = np.ascontiguousarray(dhs)
    dxw = np.empty(acts.shape, acts.dtype)
    dp = np.empty(acts.shape, acts.dtype)
    dh = _carry(dh_last)
    u_t = np.ascontiguousarray(u.T)
    _run(_gru_backward, u, keep, u_t, keep, hs, acts, p_h, dhs, dxw, dp, dh, truncate)
    return dxw, dp, dh


def gru_forward_reset_before(xw, u, keep, h0):
    """reset_after=False: ``(hs, acts, rh)``; ``u (H, 3H)`` is split into ``U_zr`` and ``U_h``."""
    steps, (batch, units) = keep.shape[0], h0.shape
    hs = _states(h0, steps)
    acts = np.empty((steps, batch, 3 * units), h0.dtype)
    rh = np.empty((steps, batch, units), h0.dtype)
    u_zr = np.ascontiguousarray(u[:, : 2 * units])
    u_h = np.ascontiguousarray(u[:, 2 * units :])
    _run(_gru_forward_reset_before, u, keep, xw, u_zr, u_h, keep, hs, acts, rh)
    return hs, acts, rh


def gru_backward_reset_before(u, keep, hs, acts, dhs, dh_last, truncate):
    """reset_after=False: ``(dzr (T, B, 2H), dhh (T, B, H), dh0)``, the gradients of the z, r
    pre-activations and of the candidate's, and of ``h0``."""
    dhs = np.ascontiguousarray(dhs)
    steps, batch, units = dhs.shape
    dzr = np.empty((steps, batch, 2 * units), dhs.dtype)
    dhh = np.empty((steps, batch, units), dhs.dtype)
    dh = _carry(dh_last)
    u_zr_t = np.ascontiguousarray(u[:, : 2 * units].T)
    u_h_t = np.ascontiguousarray(u[:, 2 * units :].T)
    _run(
        _gru_backward_reset_before,
        u,
        keep,
        u_zr_t,
        u_h_t,
        keep,
        hs,
        acts,
        dhs,
        dzr,
        dhh,
        dh,
        truncate,
    )
    return dzr, dhh, dh
