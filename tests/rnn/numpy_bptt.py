"""Hand-written numpy references for the built-in recurrent cells: forward loops that keep a cache,
and backpropagation through time as an explicit reverse loop (min-char-rnn / CS231n style).

These are the "level 3" references of the test suite: no tape, no layers, only arrays. The weight
layouts and gate orders are the Keras ones used by ``minigrad_layers``:

* SimpleRNN: ``W (D, H)``, ``U (H, H)``, ``b (H,)``; ``h_t = tanh(x_t W + h_{t-1} U + b)``.
* LSTM: ``W (D, 4H)``, ``U (H, 4H)``, ``b (4H,)``, column blocks ``i, f, c, o``.
* GRU: ``W (D, 3H)``, ``U (H, 3H)``, column blocks ``z, r, h``; bias ``(2, 3H)`` when
  ``reset_after`` (row 0 input bias, row 1 recurrent bias) else ``(3H,)``.

Masking follows Keras: at a masked step the cell still runs but its result is discarded, the state
keeps its previous value and the output repeats the previous output (zeros before the first step).
So two things are carried backwards: ``dh`` (into the state) and ``dy`` (into the output carry).

The backward functions take ``dys`` (B, T, H), the loss's gradient with respect to every step's
(masked) output, and ``dh_last`` (B, H), its gradient with respect to the final state; for a loss
that only reads the last output put it in ``dys[:, -1]``.
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


# -------------------------------------------------------------------------------------------------
# SimpleRNN
# -------------------------------------------------------------------------------------------------


def simple_rnn_forward(x, h0, W, U, b, mask=None):
    """Run ``h_t = tanh(x_t W + h_{t-1} U + b)`` over ``x (B, T, D)``.

    Returns ``ys (B, T, H)`` (the masked outputs), ``h (B, H)`` (the final state) and the cache
    that :func:`simple_rnn_backward` needs.
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


def simple_rnn_backward(dys, dh_last, cache):
    """Backpropagation through time for :func:`simple_rnn_forward`.

    Returns ``dx, dh0, dW, dU, db``. The loop carries ``dh`` (gradient on the state after step t)
    and ``dy`` (gradient on the output carried past a masked step).
    """
    x, W, U, m, hs_prev, hs_new = cache
    T = x.shape[1]
    dx = np.zeros_like(x)
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(W.shape[1], dtype=x.dtype)
    dh = dh_last.copy()
    dy = np.zeros_like(dh)
    for t in reversed(range(T)):
        dy = dy + dys[:, t]
        if m is None:  # everything reaches the cell's result; nothing is carried past it
            dh_new, dh, dy = dh + dy, 0.0, 0.0
        else:
            dh_new = m[t] * (dh + dy)  # into the cell's result at step t (zero where masked)
            dh = (1 - m[t]) * dh  # a masked step passes the state's gradient straight through
            dy = (1 - m[t]) * dy  # ... and the output's
        dz = dh_new * (1 - hs_new[t] ** 2)  # back through tanh, (B, H)
        dW += x[:, t].T @ dz
        dU += hs_prev[t].T @ dz
        db += dz.sum(axis=0)
        dx[:, t] = dz @ W.T
        dh = dh + dz @ U.T
    return dx, dh, dW, dU, db


# -------------------------------------------------------------------------------------------------
# LSTM
# -------------------------------------------------------------------------------------------------


def lstm_forward(x, h0, c0, W, U, b, mask=None):
    """LSTM over ``x (B, T, D)``, gates ``i, f, c, o`` in column blocks of ``W``, ``U``, ``b``::

        i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o);  g = tanh(z_c)
        c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)

    Returns ``ys (B, T, H)``, ``h``, ``c`` (final states) and the cache for :func:`lstm_backward`.
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


def lstm_backward(dys, dh_last, dc_last, cache):
    """BPTT for :func:`lstm_forward`; returns ``dx, dh0, dc0, dW, dU, db``."""
    x, W, U, m, steps = cache
    T = x.shape[1]
    dx = np.zeros_like(x)
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(W.shape[1], dtype=x.dtype)
    dh, dc = dh_last.copy(), dc_last.copy()
    dy = np.zeros_like(dh)
    for t in reversed(range(T)):
        h_prev, c_prev, i, f, g, o, tanh_c = steps[t]
        dy = dy + dys[:, t]
        if m is None:  # everything reaches the cell's result; nothing is carried past it
            dh_new, dc_new, dh, dc, dy = dh + dy, dc, 0.0, 0.0, 0.0
        else:
            dh_new, dc_new = m[t] * (dh + dy), m[t] * dc
            dh, dc, dy = (1 - m[t]) * dh, (1 - m[t]) * dc, (1 - m[t]) * dy
        do = dh_new * tanh_c
        dc_new = dc_new + dh_new * o * (1 - tanh_c**2)
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
    return dx, dh, dc, dW, dU, db


# -------------------------------------------------------------------------------------------------
# GRU (forward only: the tape's gradients are checked against finite differences instead)
# -------------------------------------------------------------------------------------------------


def gru_forward(x, h0, W, U, b, reset_after=True, mask=None):
    """GRU over ``x (B, T, D)``, gates ``z, r, h`` in column blocks::

        reset_after=True:  hh = tanh(x W_h + b_in_h + r * (h U_h + b_rec_h))
        reset_after=False: hh = tanh(x W_h + b_h + (r * h) U_h)
        z = sigmoid(x W_z + h U_z + biases), r likewise;  h_t = z * h_{t-1} + (1 - z) * hh

    Returns ``ys (B, T, H)`` and the final state.
    """
    T = x.shape[1]
    H = h0.shape[1]
    m = _mask_columns(mask, x.dtype)
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    h, y = h0, np.zeros_like(h0)
    ys = []
    for t in range(T):
        xw = x[:, t] @ W + b_in  # (B, 3H)
        hu = h @ U[:, : 2 * H] + b_rec[: 2 * H]  # (B, 2H): the z and r blocks
        z = sigmoid(xw[:, :H] + hu[:, :H])
        r = sigmoid(xw[:, H : 2 * H] + hu[:, H:])
        if reset_after:
            hh = np.tanh(xw[:, 2 * H :] + r * (h @ U[:, 2 * H :] + b_rec[2 * H :]))
        else:
            hh = np.tanh(xw[:, 2 * H :] + (r * h) @ U[:, 2 * H :])
        h_new = z * h + (1 - z) * hh
        m_t = None if m is None else m[t]
        h, y = _select(m_t, h_new, h), _select(m_t, h_new, y)
        ys.append(y)
    return np.stack(ys, axis=1), h
