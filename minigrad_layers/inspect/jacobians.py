"""The step Jacobians ``dh_t/dh_{t-1}`` of the built-in cells, written out in numpy, and their
spectral norms.

For a cell step ``states_t = F(x_t, states_{t-1})`` the Jacobian reported is that of the cell's
first state ``h`` with respect to its previous value, *the other states held fixed*: for an
LSTM, ``∂h_t/∂h_{t-1}`` with ``c_{t-1}`` fixed (the path ``h_{t-1} -> gates -> c_t -> h_t`` is in
it, the path through ``c_{t-1}`` is not). Every gate pre-activation is ``z_g = ... + h_{t-1} U_g``
with ``U_g`` a column block of the recurrent kernel, so a Jacobian is a sum over gates::

    J[b, i, j] = ∂h_t[b, i]/∂h_{t-1}[b, j] = sum_g a_g[b, i] U_g[j, i]      a_g = ∂h_t/∂z_g (B, H)

(``sum_g diag(a_g) U_g^T`` per row), plus the direct terms of the GRU. With ``σ`` the recurrent
activation and ``act`` the activation (``act'`` their slopes):

* SimpleRNN, ``h_t = act(z)``: ``a = act'(z)``.
* LSTM, ``c_t = f c_{t-1} + i g``, ``h_t = o act(c_t)``, ``k = o act'(c_t)``:
  ``a_i = k g σ'(z_i)``, ``a_f = k c_{t-1} σ'(z_f)``, ``a_c = k i act'(z_c)``,
  ``a_o = act(c_t) σ'(z_o)``.
* GRU, ``h_t = z h_{t-1} + (1 - z) hh``, ``d = (1 - z) act'(z_h)`` (``z_h`` the candidate's
  pre-activation): ``diag(z) + diag((h_{t-1} - hh) σ'(z_z)) U_z^T`` and then
  ``reset_after=True`` (``hh = act(x_h + r p_h)``, ``p_h = h_{t-1} U_h + b_rh``):
  ``+ diag(d p_h σ'(z_r)) U_r^T + diag(d r) U_h^T``;
  ``reset_after=False`` (``hh = act(x_h + (r h_{t-1}) U_h)``):
  ``+ diag(d) U_h^T (diag(r) + diag(h_{t-1} σ'(z_r)) U_r^T)``.

The slopes come from the tape, applied to the activation elementwise (the gradient of
``sum(act(z))`` is ``act'(z)``), so kinks (relu, hard_sigmoid) follow the tape's conventions. Only
the cells' deterministic step is covered (no dropout, as ``training=False``); anything else, a
custom cell or a non-elementwise activation, is left to the tape (:func:`analytic_jacobians`
returns None).

>>> import numpy as np, minigrad as mg, minigrad_layers as mgl
>>> cell = mgl.SimpleRNNCell(3, dtype="float64")
>>> cell.build((2, 4))
>>> x, h = np.ones((2, 4)), np.zeros((2, 3))
>>> J = analytic_jacobians(cell, x, [h])  # (2, 3, 3)
>>> slope = 1 - np.tanh(x @ cell.kernel.numpy() + cell.bias.numpy()) ** 2  # tanh'(z), (2, 3)
>>> bool(np.allclose(J, slope[:, :, None] * cell.recurrent_kernel.numpy().T))
True
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers import activations
from minigrad_layers.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell

ELEMENTWISE = (
    activations.linear,
    activations.tanh,
    activations.sigmoid,
    activations.hard_sigmoid,
    activations.relu,
)
BUILT_IN = (SimpleRNNCell, LSTMCell, GRUCell)


def has_analytic_jacobian(cell) -> bool:
    """Whether ``cell`` is a built-in cell (its own class, not a subclass) whose activations are
    elementwise built-ins, i.e. whether :func:`analytic_jacobians` covers it."""
    if type(cell) not in BUILT_IN or not getattr(cell, "built", False):
        return False
    used = [cell.activation, getattr(cell, "recurrent_activation", activations.sigmoid)]
    return all(any(a is known for known in ELEMENTWISE) for a in used)


def analytic_jacobians(cell, x: np.ndarray, states: list) -> np.ndarray | None:
    """``∂h_t/∂h_{t-1}`` ``(N, H, H)`` of one step of the built-in ``cell`` from step inputs
    ``x (N, D)`` and flat states ``states`` (``[h]``, or ``[h, c]`` for an LSTM, ``(N, H)``
    each), in float64; None when ``cell`` is not covered (:func:`has_analytic_jacobian`)."""
    if not has_analytic_jacobian(cell):
        return None
    x = np.asarray(x, dtype=np.float64)
    states = [np.asarray(s, dtype=np.float64) for s in states]
    kernel, recurrent = _weights(cell)
    if isinstance(cell, LSTMCell):
        return _lstm(cell, x, *states, kernel, recurrent)
    if isinstance(cell, GRUCell):
        return _gru(cell, x, states[0], kernel, recurrent)
    return _simple_rnn(cell, x, states[0], kernel, recurrent)


def spectral_norms(jacobians: np.ndarray) -> np.ndarray:
    """``(N,)``: the largest singular value of each ``(n, n)`` matrix of ``jacobians (N, n, n)``.

    ``σ_max(J)^2`` is the largest eigenvalue of the symmetric ``J J^T``: one batched product and
    a symmetric eigenvalue solve cost about half of a full SVD, and the largest eigenvalue comes
    out to rounding (relative error about ``n`` times the machine epsilon).
    """
    gram = np.matmul(jacobians, jacobians.transpose(0, 2, 1))  # (N, n, n)
    return np.sqrt(np.maximum(np.linalg.eigvalsh(gram)[:, -1], 0.0))


# -- the cells ------------------------------------------------------------------------------------
def _weights(cell) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.asarray(cell.kernel.numpy(), dtype=np.float64),
        np.asarray(cell.recurrent_kernel.numpy(), dtype=np.float64),
    )


def _bias(cell) -> np.ndarray | float:
    return 0.0 if cell.bias is None else np.asarray(cell.bias.numpy(), dtype=np.float64)


def _value_and_slope(activation, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``act(z)`` and ``act'(z)`` elementwise, the slope from the tape."""
    z = mg.tensor(z)
    with mg.GradientTape() as tape:
        tape.watch(z)
        value = activation(z)
    slope = tape.gradient(value, z, unconnected_gradients="zero")
    return value.numpy(), slope.numpy()


def _gate_sum(coefficients: list, blocks: list) -> np.ndarray:
    """``sum_g diag(a_g) U_g^T`` per row, ``(N, H, H)``: ``J[b, i, j] = sum_g a_g[b, i] U_g[j, i]``.

    For each unit i that is a product with inner size G (the gates): ``J[:, i, :] = A_i V_i``
    with ``A_i[b, g] = a_g[b, i]`` and ``V_i[g, j] = U_g[j, i]``, one batched matmul over i
    (each entry of J written once, instead of G passes over it).
    """
    a = np.stack(coefficients, axis=-1).transpose(1, 0, 2)  # (H, N, G)
    v = np.stack([block.T for block in blocks], axis=1)  # (H, G, H)
    return np.ascontiguousarray(np.matmul(a, v).transpose(1, 0, 2))  # (H, N, H) -> (N, H, H)


def _blocks(matrix: np.ndarray, gates: int) -> list[np.ndarray]:
    return np.split(matrix, gates, axis=-1)  # the gate column blocks, (..., H) each


def _simple_rnn(cell, x, h, kernel, recurrent) -> np.ndarray:
    _, slope = _value_and_slope(cell.activation, x @ kernel + _bias(cell) + h @ recurrent)
    return _gate_sum([slope], [recurrent])


def _lstm(cell, x, h, c, kernel, recurrent) -> np.ndarray:
    z_i, z_f, z_c, z_o = _blocks(x @ kernel + h @ recurrent + _bias(cell), 4)  # (N, H) each
    (i, di), (f, df), (o, do) = (
        _value_and_slope(cell.recurrent_activation, z) for z in (z_i, z_f, z_o)
    )
    g, dg = _value_and_slope(cell.activation, z_c)
    act_c, dact_c = _value_and_slope(cell.activation, f * c + i * g)  # act(c_t), act'(c_t)
    k = o * dact_c  # ∂h_t/∂c_t
    coefficients = [k * g * di, k * c * df, k * i * dg, act_c * do]
    return _gate_sum(coefficients, _blocks(recurrent, 4))


def _gru(cell, x, h, kernel, recurrent) -> np.ndarray:
    bias = _bias(cell)
    if cell.reset_after and cell.bias is not None:
        input_bias, recurrent_bias = bias
    else:
        input_bias, recurrent_bias = bias, 0.0
    x_z, x_r, x_h = _blocks(x @ kernel + input_bias, 3)
    U_z, U_r, U_h = _blocks(recurrent, 3)
    p_z, p_r, p_h = _blocks(h @ recurrent + recurrent_bias, 3)  # (N, H) each
    z, dz = _value_and_slope(cell.recurrent_activation, x_z + p_z)
    r, dr = _value_and_slope(cell.recurrent_activation, x_r + p_r)
    candidate_pre = x_h + r * p_h if cell.reset_after else x_h + (r * h) @ U_h
    hh, dhh = _value_and_slope(cell.activation, candidate_pre)
    d = (1 - z) * dhh  # ∂h_t/∂(candidate pre-activation)
    if cell.reset_after:
        jacobian = _gate_sum([(h - hh) * dz, d * p_h * dr, d * r], [U_z, U_r, U_h])
    else:
        d_rh = _gate_sum([h * dr], [U_r])  # ∂(r h_{t-1})/∂h_{t-1}, without diag(r)
        d_rh += np.eye(h.shape[1]) * r[:, :, None]
        jacobian = _gate_sum([(h - hh) * dz], [U_z]) + d[:, :, None] * (U_h.T @ d_rh)
    jacobian += np.eye(h.shape[1]) * z[:, :, None]
    return jacobian
