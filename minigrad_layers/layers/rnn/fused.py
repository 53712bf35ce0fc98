"""The fused path of ``RNN``: a built-in cell's whole sequence in a few whole-sequence ops.

For ``SimpleRNNCell``, ``LSTMCell`` and ``GRUCell`` the layer can compute the input's part of
every step in one matmul and run the recurrence through ``mg.simple_rnn_sequence`` /
``mg.lstm_sequence`` / ``mg.gru_sequence`` (one tape record, Numba kernels, a hand-written BPTT)
instead of the per-step loop of ``loop.py``. The results are the same (the tests compare both
paths on every feature); only speed and the tape differ: the fused path records no per-step
scopes, so whatever reads the tape step by step (``mgl.inspect.trace_bptt``) runs the per-step
loop.

When the fused path is taken (:func:`applies`), as Keras decides when it may use its cuDNN
kernels:

* ``unroll=False``, and no ``step_observer`` is attached to the layer (an observer sees steps);
* the cell's class is exactly one of the three (a subclass may change ``call``);
* ``activation`` is tanh and ``recurrent_activation`` sigmoid (the defaults);
* no recurrent dropout is in effect (not training, or ``recurrent_dropout=0``; input dropout is
  fine), and no ``constants``;
* steps are vectors: the input is ``(batch, time, features)``.

Masks, ``go_backwards``, ``time_major``, ``zero_output_for_mask``, ``truncate_gradient``,
initial and stateful states, ``return_sequences`` and ``return_state`` all work on it.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers import activations
from minigrad_layers.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell

_TANH = (activations.tanh, mg.tanh)
_SIGMOID = (activations.sigmoid, mg.sigmoid)


def applies(layer, inputs: mg.Tensor, training, constants) -> bool:
    """Whether this call of ``layer`` may take the fused path (see the module docstring)."""
    cell = layer.cell
    kind = type(cell)
    if layer.unroll or layer.step_observer is not None or constants is not None:
        return False
    if kind not in (SimpleRNNCell, LSTMCell, GRUCell) or inputs.ndim != 3:
        return False
    if cell.activation not in _TANH:
        return False
    if kind is not SimpleRNNCell and cell.recurrent_activation not in _SIGMOID:
        return False
    return not (training and cell.recurrent_dropout > 0)


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
    training=None,
):
    """Same contract as ``loop.scan`` (``(last_output, sequence or None, final states)``), as a
    few whole-sequence ops recorded in name scope ``name``::

        xw = x @ kernel + bias              # (T, B, G*H): one matmul for all steps
        hs, *states = mg.lstm_sequence(xw, *states, recurrent_kernel, mask=..., ...)
        ys = where(shown, hs, 0)            # the outputs, when a mask hides some

    The op returns the carried ``h`` after every step. The outputs follow from it: at a masked
    step the state repeats the last kept step's ``h``, which is also the output there, except
    before a row's first kept step, where the output is zeros; with ``zero_output_for_mask``
    every masked step outputs zeros. So ``shown`` is "some step kept so far" (or the mask)."""
    with mg.name_scope(name):
        x = inputs if time_major else mg.transpose(inputs, (1, 0, 2))  # (T, B, D)
        xw = _input_projection(cell, x, training)  # (T, B, G*H)
        keep = None if mask is None else mask.T  # (T, B)
        options = {
            "mask": keep,
            "go_backwards": go_backwards,
            "truncate_gradient": truncate_gradient,
        }
        weights = [cell.recurrent_kernel]
        if type(cell) is GRUCell:
            options["reset_after"] = cell.reset_after
            if cell.reset_after and cell.bias is not None:
                weights.append(cell.bias[1])  # the recurrent bias, (3H,)
        hs, *final_states = _OPS[type(cell)](xw, *states, *weights, **options)  # hs (T, B, H)
        ys = hs
        if keep is not None:
            in_order = keep[::-1] if go_backwards else keep  # processing order
            shown = in_order if zero_output_for_mask else np.logical_or.accumulate(in_order, 0)
            if not shown.all():
                ys = mg.where(shown[:, :, None], hs, 0.0)
        last_output = ys[-1]  # (B, H)
        sequence = None
        if return_sequences:
            sequence = ys if time_major else mg.transpose(ys, (1, 0, 2))
    return last_output, sequence, final_states


def _input_projection(cell, x: mg.Tensor, training) -> mg.Tensor:
    """``x @ kernel + b_in`` for all steps at once, ``(T, B, D) -> (T, B, G*H)``.

    With input dropout in effect, gate k reads ``x * mask_k`` (one mask per gate, drawn by the
    cell as its per-step ``call`` would, the same at every step), so the product is taken per
    gate block of the kernel."""
    kernel, bias = cell.kernel, cell.bias
    step_like = mg.zeros(x.shape[1:], dtype=x.dtype)  # (B, D): the masks take its shape, dtype
    masks = cell.get_dropout_mask_for_cell(step_like, training, count=cell._GATES)
    if masks is None:
        xw = mg.matmul(x, kernel)
    else:
        units = cell.units
        blocks = [
            mg.matmul(x * m, kernel[:, k * units : (k + 1) * units]) for k, m in enumerate(masks)
        ]
        xw = mg.concat(blocks, axis=2)
    if bias is not None:
        xw = xw + (bias[0] if bias.ndim == 2 else bias)  # a GRU's bias rows: input, recurrent
    return xw


_OPS = {
    SimpleRNNCell: mg.simple_rnn_sequence,
    LSTMCell: mg.lstm_sequence,
    GRUCell: mg.gru_sequence,
}
