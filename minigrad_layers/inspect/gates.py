"""The gates of the built-in LSTM and GRU cells at one step, recomputed in numpy (float64) from
the step's input and states, each with its activation's slope.

``step_gates(cell, x (N, D), states)`` returns ``{name: (value, slope)}``, ``(N, H)`` each, with
``σ`` the recurrent activation and ``act`` the activation (Keras gate order and letters):

* LSTM: ``"i"``, ``"f"``, ``"o"`` (``σ`` of their pre-activations), ``"c"`` (the candidate
  ``g = act(z_c)``) and ``"act(c_t)"`` (``act`` of the new cell state; ``h_t = o act(c_t)``).
* GRU: ``"z"``, ``"r"`` (``σ``) and ``"h"`` (the candidate ``hh = act(...)``), and, not an
  activation, ``"p_h"``: with ``reset_after`` the candidate's recurrent part
  ``h_{t-1} U_h + b_rh`` (its slope is 1), without it zeros.

The slope is ``act'`` at the pre-activation, from the tape (the gradient of ``sum(act(z))``):
where it is near 0 the gate is *saturated* and passes almost no gradient. The step Jacobians
(``jacobians.py``) are built from these values.

>>> import numpy as np, minigrad_layers as mgl
>>> cell = mgl.LSTMCell(3, dtype="float64")
>>> cell.build((2, 4))
>>> gates = step_gates(cell, np.ones((2, 4)), [np.zeros((2, 3)), np.zeros((2, 3))])
>>> sorted(gates), gates["f"][0].shape
(['act(c_t)', 'c', 'f', 'i', 'o'], (2, 3))
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers.layers.rnn.cells import GRUCell, LSTMCell

GATE_NAMES = {LSTMCell: ("i", "f", "c", "o", "act(c_t)"), GRUCell: ("z", "r", "h")}


def step_gates(cell, x: np.ndarray, states: list) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{name: (value, slope)}`` of the LSTM or GRU ``cell`` at a step (module docstring)."""
    x = np.asarray(x, dtype=np.float64)
    states = [np.asarray(s, dtype=np.float64) for s in states]
    if isinstance(cell, LSTMCell):
        return _lstm(cell, x, *states)
    if isinstance(cell, GRUCell):
        return _gru(cell, x, states[0])
    raise TypeError(f"step_gates needs an LSTMCell or a GRUCell, received {type(cell).__name__}")


def activation_of(cell, name: str):
    """The activation function behind gate ``name``: ``activation`` for the candidates and
    ``act(c_t)``, ``recurrent_activation`` for the gates proper."""
    return cell.activation if name in ("c", "h", "act(c_t)") else cell.recurrent_activation


def weights(cell) -> tuple[np.ndarray, np.ndarray, np.ndarray | float]:
    """``kernel``, ``recurrent_kernel`` and ``bias`` (0.0 without one) in float64."""
    bias = 0.0 if cell.bias is None else np.asarray(cell.bias.numpy(), dtype=np.float64)
    return (
        np.asarray(cell.kernel.numpy(), dtype=np.float64),
        np.asarray(cell.recurrent_kernel.numpy(), dtype=np.float64),
        bias,
    )


def value_and_slope(activation, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``act(z)`` and ``act'(z)`` elementwise, the slope from the tape."""
    z = mg.tensor(z)
    with mg.GradientTape() as tape:
        tape.watch(z)
        value = activation(z)
    slope = tape.gradient(value, z, unconnected_gradients="zero")
    return value.numpy(), slope.numpy()


def blocks(matrix: np.ndarray, gates: int) -> list[np.ndarray]:
    """The gate column blocks of ``matrix (..., gates * H)``, ``(..., H)`` each."""
    return np.split(matrix, gates, axis=-1)


def _lstm(cell, x, h, c) -> dict:
    kernel, recurrent, bias = weights(cell)
    z_i, z_f, z_c, z_o = blocks(x @ kernel + h @ recurrent + bias, 4)  # (N, H) each
    gates = {
        name: value_and_slope(cell.recurrent_activation, z)
        for name, z in [("i", z_i), ("f", z_f), ("o", z_o)]
    }
    gates["c"] = value_and_slope(cell.activation, z_c)
    c_new = gates["f"][0] * c + gates["i"][0] * gates["c"][0]  # c_t = f c_{t-1} + i g
    gates["act(c_t)"] = value_and_slope(cell.activation, c_new)
    return gates


def _gru(cell, x, h) -> dict:
    kernel, recurrent, bias = weights(cell)
    if cell.reset_after and cell.bias is not None:
        input_bias, recurrent_bias = bias
    else:
        input_bias, recurrent_bias = bias, 0.0
    x_z, x_r, x_h = blocks(x @ kernel + input_bias, 3)
    p_z, p_r, p_h = blocks(h @ recurrent + recurrent_bias, 3)  # (N, H) each
    z = value_and_slope(cell.recurrent_activation, x_z + p_z)
    r = value_and_slope(cell.recurrent_activation, x_r + p_r)
    if cell.reset_after:
        candidate_pre = x_h + r[0] * p_h
    else:
        candidate_pre, p_h = x_h + (r[0] * h) @ blocks(recurrent, 3)[2], np.zeros_like(h)
    return {"z": z, "r": r, "h": value_and_slope(cell.activation, candidate_pre), "p_h": (p_h, 1.0)}
