"""Backpropagation through time in plain numpy: the built-in recurrent cells written out by hand.

One forward loop and one reverse (BPTT) loop per cell, min-char-rnn / CS231n style: no tape, no
layers, only arrays. They are the references of the fused kernels (``recurrent_kernels.py``,
which compute the same recurrences and gradients in Numba), of the per-step loop of
``minigrad_layers`` and of ``mgl.inspect.trace_bptt``; the tests check all of them against these
loops and these loops against finite differences.

Shapes: ``x (B, T, D)``, states ``(B, H)``, the Keras weight layouts ``W (D, G*H)`` (kernel),
``U (H, G*H)`` (recurrent kernel), ``b`` (bias) with G column blocks of H units each:

* SimpleRNN, G = 1: ``h_t = tanh(x_t W + h_{t-1} U + b)``, ``b (H,)``.
* LSTM, G = 4, blocks ``i, f, c, o``, ``b (4H,)``.
* GRU, G = 3, blocks ``z, r, h``; ``b (2, 3H)`` when ``reset_after`` (row 0 the input bias, row 1
  the recurrent bias), else ``b (3H,)``.

Masking (Keras): ``mask (B, T)`` bool, True = the step updates the row. At a masked step the cell
still runs but its result is discarded: the states keep their previous values and the output
repeats the previous output (zeros before the row's first kept step). So the reverse loops carry
two gradients back: ``dh`` (into the state) and ``dy`` (into the output carried past a masked
step).

Every forward returns ``ys (B, T, H)`` (the masked outputs), the final states and a ``cache``;
every backward takes ``dys (B, T, H)``, dL/d(every step's output), and the gradients of the
final states (for a loss that reads only the last output, put it in ``dys[:, -1]``), and returns
the gradients of the inputs, the initial states and the weights, in argument order. Given a list
``state_grads``, a backward also fills it with the total gradient of the states after every step
t (in step order), paths inside step t included: the ``δh_t`` (and the LSTM's ``δc_t``) of the
textbook loop. The ``*_jacobian(cache, t)`` functions give ``∂h_t/∂h_{t-1} (B, H, H)`` (the other
states held fixed; the identity on a masked row).

>>> rng = np.random.default_rng(0)
>>> x, h0 = rng.normal(size=(2, 5, 3)), np.zeros((2, 4))
>>> W, U, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), np.zeros(4)
>>> ys, h, cache = simple_rnn_forward(x, h0, W, U, b)
>>> dx, dh0, dW, dU, db = simple_rnn_backward(np.ones_like(ys), np.zeros_like(h), cache)
>>> ys.shape, dW.shape, simple_rnn_jacobian(cache, 4).shape
((2, 5, 4), (3, 4), (2, 4, 4))
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), written with tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _mask_columns(mask, dtype) -> np.ndarray | None:
    """The (B, T) mask as (T, B, 1) floats, ready to broadcast over units; None stays None."""
    if mask is None:
        return None
    return np.asarray(mask, dtype=dtype).T[:, :, None]  # (B, T) -> (T, B, 1)


def _select(m, new, old):
    """``new`` where the step is kept, else ``old`` (the whole of ``new`` without a mask)."""
    return new if m is None else m * new + (1 - m) * old


def _split_carry(m, dh, dy):
    """At step t of a reverse loop: ``(dh_new, dh, dy)``, the gradient that reaches the cell's
    result (``dh + dy`` on kept rows, 0 on masked ones) and what passes the step unchanged to
    step t - 1 (the carried state's and output's gradients, on masked rows only)."""
    if m is None:  # everything reaches the cell's result; nothing is carried past it
        return dh + dy, 0.0, 0.0
    return m * (dh + dy), (1 - m) * dh, (1 - m) * dy


def _keep_identity(jacobian: np.ndarray, m) -> np.ndarray:
    """``jacobian (B, H, H)`` with the rows of masked steps replaced by the identity."""
    if m is not None:
        masked = m[:, 0] == 0
        jacobian[masked] = np.eye(jacobian.shape[1])
    return jacobian


def _gate_jacobian(coefficients: list, U: np.ndarray) -> np.ndarray:
    """``sum_g diag(a_g) U_g^T`` per row, ``(B, H, H)``: the Jacobian of a state whose
    derivative with respect to gate g's pre-activation ``z_g = ... + h_{t-1} U_g`` is ``a_g
    (B, H)`` (so ``J[b, i, j] = sum_g a_g[b, i] U_g[j, i]``)."""
    H = U.shape[0]
    return sum(a[:, :, None] * U[:, g * H : (g + 1) * H].T for g, a in enumerate(coefficients))


# -------------------------------------------------------------------------------------------------
# SimpleRNN
# -------------------------------------------------------------------------------------------------


def simple_rnn_forward(x, h0, W, U, b, mask=None):
    """Run ``h_t = tanh(x_t W + h_{t-1} U + b)`` over ``x (B, T, D)`` from ``h_{-1} = h0``.

    Returns ``ys (B, T, H)``, the final state ``h (B, H)`` and the cache of
    :func:`simple_rnn_backward`: every step's ``h_{t-1}`` and ``h_t`` (before masking).
    """
    T = x.shape[1]
    m = _mask_columns(mask, x.dtype)  # (T, B, 1)
    h, y = h0, np.zeros_like(h0)
    hs_prev, hs_new, ys = [], [], []
    for t in range(T):
        h_new = np.tanh(x[:, t] @ W + h @ U + b)  # (B, H)
        hs_prev.append(h)
        hs_new.append(h_new)
        m_t = None if m is None else m[t]
        h = _select(m_t, h_new, h)  # masked rows keep their state
        y = _select(m_t, h_new, y)  # ... and repeat their previous output
        ys.append(y)
    cache = (x, W, U, m, hs_prev, hs_new)
    return np.stack(ys, axis=1), h, cache  # (B, T, H)


def simple_rnn_backward(dys, dh_last, cache, state_grads=None):
    """BPTT for :func:`simple_rnn_forward`; returns ``dx, dh0, dW, dU, db``.

    Step t, from ``dh`` (what later steps send back into h_t) and ``dy``::

        δh_t = dh + dy_t                      (total dL/dh_t; dy_t = dys[:, t] + carried dy)
        dz_t = δh_t (1 - h_t^2)               (through tanh, (B, H))
        dW += x_t^T dz_t;  dU += h_{t-1}^T dz_t;  db += sum_batch dz_t;  dx_t = dz_t W^T
        dh = dz_t U^T                         (sent back into h_{t-1})
    """
    x, W, U, m, hs_prev, hs_new = cache
    T = x.shape[1]
    dx = np.zeros_like(x)
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(W.shape[1], dtype=x.dtype)
    dh = dh_last.copy()
    dy = np.zeros_like(dh)
    totals = []
    for t in reversed(range(T)):
        m_t = None if m is None else m[t]
        dh_new, dh, dy = _split_carry(m_t, dh, dy + dys[:, t])
        totals.append([dh_new + dh])  # δh_t: the kept rows' dh_new, the masked rows' carry
        dz = dh_new * (1 - hs_new[t] ** 2)  # back through tanh, (B, H)
        dW += x[:, t].T @ dz
        dU += hs_prev[t].T @ dz
        db += dz.sum(axis=0)
        dx[:, t] = dz @ W.T
        dh = dh + dz @ U.T
    if state_grads is not None:
        state_grads[:] = totals[::-1]
    return dx, dh, dW, dU, db


def simple_rnn_jacobian(cache, t):
    """``∂h_t/∂h_{t-1} = diag(1 - h_t^2) U^T`` per row, ``(B, H, H)``."""
    _, _, U, m, _, hs_new = cache
    jacobian = _gate_jacobian([1 - hs_new[t] ** 2], U)
    return _keep_identity(jacobian, None if m is None else m[t])


# -------------------------------------------------------------------------------------------------
# LSTM
# -------------------------------------------------------------------------------------------------


def lstm_forward(x, h0, c0, W, U, b, mask=None):
    """The LSTM over ``x (B, T, D)``, gates ``i, f, c, o`` in column blocks of ``W``, ``U``, ``b``::

        z = x_t W + h_{t-1} U + b                                    (B, 4H)
        i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);  g = tanh(z_c)
        c_t = f c_{t-1} + i g;  h_t = o tanh(c_t)

    Returns ``ys (B, T, H)``, the final ``h`` and ``c`` and the cache of :func:`lstm_backward`.
    """
    T = x.shape[1]
    H = h0.shape[1]
    m = _mask_columns(mask, x.dtype)
    h, c, y = h0, c0, np.zeros_like(h0)
    steps, ys = [], []
    for t in range(T):
        z = x[:, t] @ W + h @ U + b  # (B, 4H)
        i, f, o = sigmoid(z[:, :H]), sigmoid(z[:, H : 2 * H]), sigmoid(z[:, 3 * H :])
        g = np.tanh(z[:, 2 * H : 3 * H])
        c_new = f * c + i * g
        tanh_c = np.tanh(c_new)
        h_new = o * tanh_c
        steps.append((h, c, i, f, g, o, tanh_c))
        m_t = None if m is None else m[t]
        h, c, y = _select(m_t, h_new, h), _select(m_t, c_new, c), _select(m_t, h_new, y)
        ys.append(y)
    cache = (x, W, U, m, steps)
    return np.stack(ys, axis=1), h, c, cache


def lstm_backward(dys, dh_last, dc_last, cache, state_grads=None):
    """BPTT for :func:`lstm_forward`; returns ``dx, dh0, dc0, dW, dU, db``.

    Step t, from ``dh``, ``dc`` (what step t + 1 sends back into h_t and c_t) and ``dy``::

        δh_t = dh + dy_t                                   (total dL/dh_t)
        δc_t = δh_t o tanh'(c_t) + dc                      (total dL/dc_t; dc = δc_{t+1} f_{t+1})
        dz_t = [δc_t g i(1-i), δc_t c_{t-1} f(1-f), δc_t i (1-g^2), δh_t tanh(c_t) o(1-o)]
        dW += x_t^T dz_t;  dU += h_{t-1}^T dz_t;  db += sum_batch dz_t;  dx_t = dz_t W^T
        dh = dz_t U^T;  dc = δc_t f                        (sent back into h_{t-1}, c_{t-1})
    """
    x, W, U, m, steps = cache
    T = x.shape[1]
    dx = np.zeros_like(x)
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(W.shape[1], dtype=x.dtype)
    dh, dc = dh_last.copy(), dc_last.copy()
    dy = np.zeros_like(dh)
    totals = []
    for t in reversed(range(T)):
        h_prev, c_prev, i, f, g, o, tanh_c = steps[t]
        m_t = None if m is None else m[t]
        dh_new, dh, dy = _split_carry(m_t, dh, dy + dys[:, t])
        dc_new, dc = (dc, 0.0) if m_t is None else (m_t * dc, (1 - m_t) * dc)
        dc_new = dc_new + dh_new * o * (1 - tanh_c**2)
        totals.append([dh_new + dh, dc_new + dc])  # δh_t, δc_t (masked rows: the carries)
        do = dh_new * tanh_c
        di, df, dg = dc_new * g, dc_new * c_prev, dc_new * i
        dc = dc + dc_new * f
        dz = np.concatenate(  # back through the gate activations, (B, 4H) in i, f, c, o order
            [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
        )
        dW += x[:, t].T @ dz
        dU += h_prev.T @ dz
        db += dz.sum(axis=0)
        dx[:, t] = dz @ W.T
        dh = dh + dz @ U.T
    if state_grads is not None:
        state_grads[:] = totals[::-1]
    return dx, dh, dc, dW, dU, db


def lstm_jacobian(cache, t):
    """``∂h_t/∂h_{t-1}`` with ``c_{t-1}`` held fixed, ``(B, H, H)``: ``sum_g diag(a_g) U_g^T``
    over the gates, ``a_g = ∂h_t/∂z_g``::

        a_i = o tanh'(c_t) g i(1-i),  a_f = o tanh'(c_t) c_{t-1} f(1-f),
        a_c = o tanh'(c_t) i (1-g^2), a_o = tanh(c_t) o(1-o)
    """
    _, _, U, m, steps = cache
    _, c_prev, i, f, g, o, tanh_c = steps[t]
    dc = o * (1 - tanh_c**2)  # ∂h_t/∂c_t
    coefficients = [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g**2)]
    jacobian = _gate_jacobian(coefficients + [tanh_c * o * (1 - o)], U)
    return _keep_identity(jacobian, None if m is None else m[t])


# -------------------------------------------------------------------------------------------------
# GRU
# -------------------------------------------------------------------------------------------------


def gru_forward(x, h0, W, U, b, reset_after=True, mask=None):
    """The GRU over ``x (B, T, D)``, gates ``z, r, h`` in column blocks::

        [x_z x_r x_h] = x_t W + b_in
        z = sigmoid(x_z + h_{t-1} U_z + b_rec_z),  r = sigmoid(x_r + h_{t-1} U_r + b_rec_r)
        reset_after=True:  hh = tanh(x_h + r (h_{t-1} U_h + b_rec_h))
        reset_after=False: hh = tanh(x_h + (r h_{t-1}) U_h)          (b = b_in, no b_rec)
        h_t = z h_{t-1} + (1 - z) hh

    Returns ``ys (B, T, H)``, the final state and the cache of :func:`gru_backward`.
    """
    T = x.shape[1]
    H = h0.shape[1]
    m = _mask_columns(mask, x.dtype)
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    h, y = h0, np.zeros_like(h0)
    steps, ys = [], []
    for t in range(T):
        xw = x[:, t] @ W + b_in  # (B, 3H)
        hu = h @ U[:, : 2 * H] + b_rec[: 2 * H]  # (B, 2H): the z and r blocks
        z = sigmoid(xw[:, :H] + hu[:, :H])
        r = sigmoid(xw[:, H : 2 * H] + hu[:, H:])
        if reset_after:
            candidate_input = h @ U[:, 2 * H :] + b_rec[2 * H :]  # p_h, (B, H)
            hh = np.tanh(xw[:, 2 * H :] + r * candidate_input)
        else:
            candidate_input = r * h  # (B, H)
            hh = np.tanh(xw[:, 2 * H :] + candidate_input @ U[:, 2 * H :])
        h_new = z * h + (1 - z) * hh
        steps.append((h, z, r, hh, candidate_input))
        m_t = None if m is None else m[t]
        h, y = _select(m_t, h_new, h), _select(m_t, h_new, y)
        ys.append(y)
    cache = (x, W, U, m, reset_after, steps)
    return np.stack(ys, axis=1), h, cache


def gru_backward(dys, dh_last, cache, state_grads=None):
    """BPTT for :func:`gru_forward`; returns ``dx, dh0, dW, dU, db`` (``db`` shaped like ``b``).

    Step t, from ``dh`` (what step t + 1 sends back into h_t) and ``dy``, with ``δh_t = dh +
    dy_t`` (total dL/dh_t)::

        dhh = δh_t (1 - z)(1 - hh^2);  dz = δh_t (h_{t-1} - hh) z(1-z)   (pre-activations)
        reset_after=True, p = h_{t-1} U + b_rec:
            dr = dhh p_h r(1-r);  dp = [dz, dr, dhh r];  dU += h_{t-1}^T dp;  db_rec += sum dp
            dh = δh_t z + dp U^T
        reset_after=False:
            d(rh) = dhh U_h^T;  dr = d(rh) h_{t-1} r(1-r)
            dU_zr += h_{t-1}^T [dz, dr];  dU_h += (r h_{t-1})^T dhh
            dh = δh_t z + d(rh) r + [dz, dr] U_zr^T
        dxw = [dz, dr, dhh];  dW += x_t^T dxw;  db_in += sum_batch dxw;  dx_t = dxw W^T
    """
    x, W, U, m, reset_after, steps = cache
    T, H = x.shape[1], U.shape[0]
    dx = np.zeros_like(x)
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    db_in, db_rec = np.zeros(3 * H, dtype=x.dtype), np.zeros(3 * H, dtype=x.dtype)
    dh = dh_last.copy()
    dy = np.zeros_like(dh)
    totals = []
    for t in reversed(range(T)):
        h_prev, z, r, hh, candidate_input = steps[t]
        m_t = None if m is None else m[t]
        dh_new, dh, dy = _split_carry(m_t, dh, dy + dys[:, t])
        totals.append([dh_new + dh])
        dhh = dh_new * (1 - z) * (1 - hh**2)
        dz = dh_new * (h_prev - hh) * z * (1 - z)
        if reset_after:
            dr = dhh * candidate_input * r * (1 - r)
            dp = np.concatenate([dz, dr, dhh * r], axis=1)  # (B, 3H)
            dU += h_prev.T @ dp
            db_rec += dp.sum(axis=0)
            dh_prev = dp @ U.T
        else:
            drh = dhh @ U[:, 2 * H :].T
            dr = drh * h_prev * r * (1 - r)
            dzr = np.concatenate([dz, dr], axis=1)  # (B, 2H)
            dU[:, : 2 * H] += h_prev.T @ dzr
            dU[:, 2 * H :] += candidate_input.T @ dhh
            dh_prev = drh * r + dzr @ U[:, : 2 * H].T
        dxw = np.concatenate([dz, dr, dhh], axis=1)  # (B, 3H)
        dW += x[:, t].T @ dxw
        db_in += dxw.sum(axis=0)
        dx[:, t] = dxw @ W.T
        dh = dh + dh_new * z + dh_prev
    if state_grads is not None:
        state_grads[:] = totals[::-1]
    db = np.stack([db_in, db_rec]) if reset_after else db_in
    return dx, dh, dW, dU, db


def gru_jacobian(cache, t):
    """``∂h_t/∂h_{t-1}`` per row, ``(B, H, H)``; with ``dhh = (1 - z)(1 - hh^2)``::

    reset_after=True:  diag(z) + diag((h_{t-1} - hh) z(1-z)) U_z^T
                       + diag(dhh p_h r(1-r)) U_r^T + diag(dhh r) U_h^T
    reset_after=False: diag(z) + diag((h_{t-1} - hh) z(1-z)) U_z^T
                       + diag(dhh) U_h^T (diag(r) + diag(h_{t-1} r(1-r)) U_r^T)
    """
    _, _, U, m, reset_after, steps = cache
    h_prev, z, r, hh, candidate_input = steps[t]
    H = U.shape[0]
    dz = (h_prev - hh) * z * (1 - z)
    dhh = (1 - z) * (1 - hh**2)
    if reset_after:
        jacobian = _gate_jacobian([dz, dhh * candidate_input * r * (1 - r), dhh * r], U)
    else:
        U_z, U_r, U_h = U[:, :H], U[:, H : 2 * H], U[:, 2 * H :]
        # ∂(r h_{t-1})/∂h_{t-1} = diag(r) + diag(h_{t-1} r(1-r)) U_r^T, (B, H, H)
        d_rh = np.eye(H) * r[:, None, :] + (h_prev * r * (1 - r))[:, :, None] * U_r.T
        jacobian = _gate_jacobian([dz], U_z) + dhh[:, :, None] * (U_h.T @ d_rh)
    jacobian = jacobian + np.eye(H) * z[:, :, None]
    return _keep_identity(jacobian, None if m is None else m[t])
