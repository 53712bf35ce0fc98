"""The fused path of ``RNN``: a built-in cell's whole sequence as one recorded op.

For ``SimpleRNNCell``, ``LSTMCell`` and ``GRUCell`` the layer can run the entire sequence
through ``mg.simple_rnn_sequence`` / ``mg.lstm_sequence`` / ``mg.gru_sequence`` (one tape record,
Numba kernels, a hand-written BPTT) instead of the per-step loop of ``loop.py``. The results are
the same (the tests compare both paths on every feature); only speed and the tape differ: the
fused path records no per-step scopes, so whatever reads the tape step by step
(``mgl.inspect.trace_bptt``) runs the per-step loop.

When the fused path is taken (:func:`applies`), as Keras decides when it may use its cuDNN
kernels:

* ``unroll=False``, and not inside ``loop.reading_weights_per_step()``;
* the cell's class is exactly one of the three (a subclass may change ``call``);
* ``activation`` is tanh and ``recurrent_activation`` sigmoid (the defaults);
* no dropout is in effect (not training, or both rates 0), and no ``constants``;
* steps are vectors: the input is ``(batch, time, features)``.

Masks, ``go_backwards``, ``time_major``, ``zero_output_for_mask``, ``truncate_gradient``,
initial and stateful states, ``return_sequences`` and ``return_state`` all work on it.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers import activations
from minigrad_layers.rnn import loop
from minigrad_layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell

_TANH = (activations.tanh, mg.tanh)
_SIGMOID = (activations.sigmoid, mg.sigmoid)


def applies(layer, inputs: mg.Tensor, training, constants) -> bool:
    """Whether this call of ``layer`` may take the fused path (see the module docstring)."""
    cell = layer.cell
    kind = type(cell)
    if layer.unroll or loop.is_reading_weights_per_step() or constants is not None:
        return False
    if kind not in (SimpleRNNCell, LSTMCell, GRUCell) or inputs.ndim != 3:
        return False
    if cell.activation not in _TANH:
        return False
    if kind is not SimpleRNNCell and cell.recurrent_activation not in _SIGMOID:
        return False
    return not (training and (cell.dropout > 0 or cell.recurrent_dropout > 0))


def scan(
    cell,
    inputs: mg.Tensor,
    states: list[mg.Tensor],
    *,
    name: str,
    mask: np.ndarray | None,
    time_major: bool,
    go_backwards: bool,
    zero_output_for_mask: bool,
    truncate_gradient: int | None,
    return_sequences: bool,
):
    """Same contract as ``loop.scan`` (``(last_output, sequence or None, final states)``), in
    one fused op recorded in name scope ``name``.

    The op returns the carried ``h`` after every step. The outputs follow from it: at a masked
    step the state repeats the last kept step's ``h``, which is also the output there, except
    before a row's first kept step, where the output is zeros; with ``zero_output_for_mask``
    every masked step outputs zeros. So ``y = where(kept_so_far, hs, 0)`` (or ``where(mask, hs,
    0)``), one op on the whole sequence."""
    with mg.name_scope(name):
        x = mg.transpose(inputs, (1, 0, 2)) if time_major else inputs  # (B, T, D)
        options = {
            "mask": mask,
            "go_backwards": go_backwards,
            "truncate_gradient": truncate_gradient,
        }
        if type(cell) is GRUCell:
            options["reset_after"] = cell.reset_after
        weights = (cell.kernel, cell.recurrent_kernel, cell.bias)
        hs, *final_states = _OPS[type(cell)](x, *states, *weights, **options)  # hs (B, T, H)
        ys = hs
        if mask is not None:
            in_order = mask[:, ::-1] if go_backwards else mask  # (B, T), processing order
            shown = in_order if zero_output_for_mask else np.logical_or.accumulate(in_order, 1)
            if not shown.all():
                ys = mg.where(shown[:, :, None], hs, 0.0)
        last_output = ys[:, -1]  # (B, H)
        sequence = None
        if return_sequences:
            sequence = mg.transpose(ys, (1, 0, 2)) if time_major else ys
    return last_output, sequence, final_states


_OPS = {
    SimpleRNNCell: mg.simple_rnn_sequence,
    LSTMCell: mg.lstm_sequence,
    GRUCell: mg.gru_sequence,
}
