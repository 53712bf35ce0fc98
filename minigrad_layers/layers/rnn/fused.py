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
* the cell's class is exactly one of the rows of ``_FUSED`` (a subclass may change ``call``);
* the activations the op fuses are the ones the cell uses: ``activation`` tanh and
  ``recurrent_activation`` sigmoid (the defaults);
* no recurrent dropout is in effect (not training, or ``recurrent_dropout=0``; input dropout is
  fine), and no ``constants``;
* steps are vectors: the input is one Tensor ``(batch, time, features)`` (a nested input, see
  ``nested.py``, always runs the per-step loop).

Masks, ``go_backwards``, ``time_major``, ``zero_output_for_mask``, ``truncate_gradient``,
initial and stateful states, ``return_sequences`` and ``return_state`` all work on it.

A cell is fused by one row of the table ``_FUSED`` at the end of this file: its sequence op, its
number of gate blocks, the activations the op computes, and its extra weights and options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import minigrad as mg
from minigrad_layers import activations
from minigrad_layers.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell

_TANH = (activations.tanh, mg.tanh)
_SIGMOID = (activations.sigmoid, mg.sigmoid)


def _no_extras(cell) -> tuple[list, dict]:
    """No weights or options beyond the recurrent kernel."""
    return [], {}


@dataclass(frozen=True)
class FusedCell:
    """How one cell class runs fused: ``op(xw, *states, recurrent_kernel, *extra weights,
    mask=, go_backwards=, truncate_gradient=, **extra options)`` computes its whole recurrence.

    ``gates``: the column blocks of its kernels (``(D, gates*H)``); ``fuses``: ``{attribute:
    the functions the op computes for it}``, every one of which the cell's attribute must be;
    ``extras(cell) -> (weights, options)``: what the op needs beyond the recurrent kernel."""

    op: Callable
    gates: int
    fuses: dict[str, tuple]
    extras: Callable[[object], tuple[list, dict]] = _no_extras


def _gru_extras(cell) -> tuple[list, dict]:
    """GRU: ``reset_after``, and with it the recurrent bias row ``(3H,)`` (when there is a bias)."""
    weights = [cell.bias[1]] if cell.reset_after and cell.bias is not None else []
    return weights, {"reset_after": cell.reset_after}


def applies(layer, inputs: mg.Tensor, training, constants) -> bool:
    """Whether this call of ``layer`` may take the fused path (see the module docstring)."""
    cell = layer.cell
    fused = _FUSED.get(type(cell))
    if layer.unroll or layer.step_observer is not None or constants is not None:
        return False
    if fused is None or not isinstance(inputs, mg.Tensor) or inputs.ndim != 3:
        return False
    if any(getattr(cell, name) not in allowed for name, allowed in fused.fuses.items()):
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
        fused = _FUSED[type(cell)]
        xw = _input_projection(cell, x, training, fused.gates)  # (T, B, G*H)
        keep = None if mask is None else mask.T  # (T, B)
        extra_weights, extra_options = fused.extras(cell)
        hs, *final_states = fused.op(  # hs (T, B, H)
            xw,
            *states,
            cell.recurrent_kernel,
            *extra_weights,
            mask=keep,
            go_backwards=go_backwards,
            truncate_gradient=truncate_gradient,
            **extra_options,
        )
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


def _input_projection(cell, x: mg.Tensor, training, gates: int) -> mg.Tensor:
    """``x @ kernel + b_in`` for all steps at once, ``(T, B, D) -> (T, B, G*H)``.

    With input dropout in effect, gate k reads ``x * mask_k`` (one mask per gate, drawn by the
    cell as its per-step ``call`` would, the same at every step), so the product is taken per
    gate block of the kernel."""
    kernel, bias = cell.kernel, cell.bias
    masks = None
    if training and cell.dropout > 0:
        step_like = mg.zeros(x.shape[1:], dtype=x.dtype)  # (B, D): the masks take its shape
        masks = cell._dropout_mask_list(step_like, training, count=gates)
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


_FUSED = {
    SimpleRNNCell: FusedCell(mg.simple_rnn_sequence, gates=1, fuses={"activation": _TANH}),
    LSTMCell: FusedCell(
        mg.lstm_sequence,
        gates=4,
        fuses={"activation": _TANH, "recurrent_activation": _SIGMOID},
    ),
    GRUCell: FusedCell(
        mg.gru_sequence,
        gates=3,
        fuses={"activation": _TANH, "recurrent_activation": _SIGMOID},
        extras=_gru_extras,
    ),
}
