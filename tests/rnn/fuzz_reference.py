"""Whole recurrent-layer configurations in plain numpy, assembled from the per-cell BPTT loops of
``minigrad/recurrent_reference.py``: the reference of ``test_fuzz.py``.

A cell's loop runs one sequence forwards with a mask; everything else a layer does is written
here on top of it, as the layer documents it:

* stacked cells (``RNN([cell_a, cell_b])``): cell k+1 runs over the output sequence of cell k
  with the same mask (at a masked step its result is discarded, so what it reads there does not
  matter, and no gradient reaches it);
* ``truncate_gradient=k``: chunks of k steps in processing order, each starting from the states
  the previous chunk ended with, held constant; before a chunk's first kept step a row outputs
  the (constant) last output of the previous chunk;
* ``zero_output_for_mask``: the outputs times the mask;
* ``go_backwards``: the time axis reversed on the way in (the sequence stays in processing
  order on the way out), ``time_major``: batch and time swapped;
* ``Bidirectional``: two such layers and a merge.

Every reference returns ``(outputs, finals, vjp)``: ``outputs`` the flat list of arrays the layer
returns (``flatten(layer(...))``), ``finals`` the flat final states (what a stateful layer keeps),
and ``vjp(cotangents) -> (dx, d_states, d_weights)``, the gradients of ``sum_i sum(outputs[i] *
cotangents[i])`` with respect to the input, the flat initial states and the flat weights (per cell
``kernel, recurrent_kernel, bias``, the layer's weight order).
"""

from __future__ import annotations

import numpy as np

from minigrad import recurrent_reference as ref

N_STATES = {"simple_rnn": 1, "lstm": 2, "gru": 1, "gru_reset_before": 1}


def cell_forward(kind, x, states, weights, mask=None):
    """``(ys, final states, cache)`` of the reference loop of one cell kind."""
    if kind == "simple_rnn":
        ys, h, cache = ref.simple_rnn_forward(x, *states, *weights, mask=mask)
        return ys, [h], cache
    if kind == "lstm":
        ys, h, c, cache = ref.lstm_forward(x, *states, *weights, mask=mask)
        return ys, [h, c], cache
    ys, h, cache = ref.gru_forward(x, *states, *weights, reset_after=kind == "gru", mask=mask)
    return ys, [h], cache


def cell_backward(kind, dys, d_finals, cache, state_grads=None):
    """The reference's gradients ``(dx, *d initial states, dW, dU, db)`` of one cell kind."""
    backward = {
        "simple_rnn": ref.simple_rnn_backward,
        "lstm": ref.lstm_backward,
        "gru": ref.gru_backward,
        "gru_reset_before": ref.gru_backward,
    }[kind]
    return backward(dys, *d_finals, cache, state_grads=state_grads)


def _per_cell(flat, per_cell_counts):
    """Split a flat list into one list per cell, ``per_cell_counts[k]`` entries for cell k."""
    parts, start = [], 0
    for count in per_cell_counts:
        parts.append(flat[start : start + count])
        start += count
    return parts


def _stack_forward(kinds, x, states, weights, mask):
    """The cells one after the other over ``x (B, T, D)``: ``(ys, flat finals, caches)``."""
    counts = [N_STATES[k] for k in kinds]
    finals, caches = [], []
    for kind, cell_states, cell_weights in zip(
        kinds,
        _per_cell(states, counts),
        _per_cell(weights, [3] * len(kinds)),
        strict=True,
    ):
        x, cell_finals, cache = cell_forward(kind, x, cell_states, cell_weights, mask)
        finals += cell_finals
        caches.append(cache)
    return x, finals, caches


def _stack_backward(kinds, dys, d_finals, caches):
    """BPTT through :func:`_stack_forward`: ``(dx, flat d initial states, flat d weights)``."""
    counts = [N_STATES[k] for k in kinds]
    d_states, d_weights = [], []
    for kind, cell_d_finals, cache in reversed(
        list(zip(kinds, _per_cell(d_finals, counts), caches, strict=True))
    ):
        dys, *rest = cell_backward(kind, dys, cell_d_finals, cache)
        n = N_STATES[kind]
        d_states = list(rest[:n]) + d_states
        d_weights = list(rest[n:]) + d_weights
    return dys, d_states, d_weights


def sequence(kinds, x, states, weights, mask, truncate_gradient=None, zero_output=False):
    """The stack over ``x (B, T, D)`` in processing order, batch-major, with truncation and
    ``zero_output_for_mask``: ``(ys (B, T, H), flat finals, backward)``, ``backward(dys,
    d_finals) -> (dx, d_states, d_weights)``."""
    steps = x.shape[1]
    k = truncate_gradient or steps
    chunks = [slice(s, min(s + k, steps)) for s in range(0, steps, k)]
    caches, ys_parts, current = [], [], list(states)
    prev_y = None
    for chunk in chunks:
        m = None if mask is None else mask[:, chunk]
        ys, current, cache = _stack_forward(kinds, x[:, chunk], current, weights, m)
        if m is not None and zero_output:
            ys = ys * m[:, :, None]
        elif m is not None and prev_y is not None:  # before the chunk's first kept step
            nothing_kept_yet = ~np.logical_or.accumulate(m, axis=1)
            ys = np.where(nothing_kept_yet[:, :, None], prev_y[:, None], ys)
        prev_y = ys[:, -1]
        ys_parts.append(ys)
        caches.append(cache)

    def backward(dys, d_finals):
        dx = np.zeros_like(x)
        d_weights = [np.zeros_like(w) for w in weights]
        d_end = list(d_finals)
        for chunk, cache in reversed(list(zip(chunks, caches, strict=True))):
            d = dys[:, chunk]
            if mask is not None and zero_output:
                d = d * mask[:, chunk, None]
            dx[:, chunk], d_start, d_chunk_weights = _stack_backward(kinds, d, d_end, cache)
            d_weights = [a + b for a, b in zip(d_weights, d_chunk_weights, strict=True)]
            d_end = [np.zeros_like(s) for s in d_start]  # the chunk starts from constants
        return dx, d_start, d_weights

    return np.concatenate(ys_parts, axis=1), current, backward


def rnn_layer(kinds, x, states, weights, mask, options):
    """``RNN(cells, **options)(x, mask=mask, initial_state=states)``; ``options`` holds
    ``return_sequences``, ``return_state``, ``go_backwards``, ``time_major``,
    ``truncate_gradient`` and ``zero_output_for_mask`` (any other entry, such as
    ``checkpoint_every``, changes no number and is ignored). Returns ``(outputs, finals, vjp)``."""
    time_major, go_backwards = options["time_major"], options["go_backwards"]
    x_in = np.swapaxes(x, 0, 1) if time_major else x  # (B, T, D)
    order = slice(None, None, -1) if go_backwards else slice(None)
    ys, finals, backward = sequence(
        kinds,
        x_in[:, order],
        states,
        weights,
        None if mask is None else mask[:, order],
        options["truncate_gradient"],
        options["zero_output_for_mask"],
    )
    if options["return_sequences"]:
        output = np.swapaxes(ys, 0, 1) if time_major else ys
    else:
        output = ys[:, -1]
    outputs = [output, *finals] if options["return_state"] else [output]

    def vjp(cotangents):
        d_output, *d_finals = cotangents
        if options["return_sequences"]:
            dys = np.swapaxes(d_output, 0, 1) if time_major else d_output
        else:
            dys = np.zeros_like(ys)
            dys[:, -1] = d_output
        if not d_finals:
            d_finals = [np.zeros_like(f) for f in finals]
        dx, d_states, d_weights = backward(dys, d_finals)
        dx = dx[:, order]
        return (np.swapaxes(dx, 0, 1) if time_major else dx), d_states, d_weights

    return outputs, finals, vjp


def _merge(mode, y, y_rev):
    """The merged output(s) and ``merge_vjp(d) -> (dy, dy_rev)``."""
    if mode is None:
        return [y, y_rev], lambda d: (d[0], d[1])
    if mode == "concat":
        units = y.shape[-1]
        return [np.concatenate([y, y_rev], -1)], lambda d: (d[0][..., :units], d[0][..., units:])
    if mode == "sum":
        return [y + y_rev], lambda d: (d[0], d[0])
    if mode == "ave":
        return [(y + y_rev) * 0.5], lambda d: (0.5 * d[0], 0.5 * d[0])
    return [y * y_rev], lambda d: (d[0] * y_rev, d[0] * y)  # "mul"


def bidirectional(kinds, x, states, weights, mask, options, merge_mode):
    """``Bidirectional(RNN(cells, **options), merge_mode)``: the forward copy with ``options``,
    the backward copy with ``go_backwards`` flipped, both with ``zero_output_for_mask =
    return_sequences``; states and weights flat, the forward copy's first."""
    inner = {**options, "zero_output_for_mask": options["return_sequences"]}
    backward_options = {**inner, "go_backwards": not options["go_backwards"]}
    n_states, n_weights = len(states) // 2, len(weights) // 2
    forward_out, forward_finals, forward_vjp = rnn_layer(
        kinds, x, states[:n_states], weights[:n_weights], mask, inner
    )
    backward_out, backward_finals, backward_vjp = rnn_layer(
        kinds, x, states[n_states:], weights[n_weights:], mask, backward_options
    )
    time_axis = 0 if options["time_major"] else 1
    flip = (slice(None),) * time_axis + (slice(None, None, -1),)
    sequences = options["return_sequences"]
    y, y_rev = forward_out[0], backward_out[0][flip] if sequences else backward_out[0]
    merged, merge_vjp = _merge(merge_mode, y, y_rev)
    outputs = merged + forward_out[1:] + backward_out[1:]

    def vjp(cotangents):
        n_merged = len(merged)
        dy, dy_rev = merge_vjp(cotangents[:n_merged])
        d_forward_states = cotangents[n_merged : n_merged + len(forward_out) - 1]
        d_backward_states = cotangents[n_merged + len(forward_out) - 1 :]
        dx_f, ds_f, dw_f = forward_vjp([dy, *d_forward_states])
        dx_b, ds_b, dw_b = backward_vjp([dy_rev[flip] if sequences else dy_rev, *d_backward_states])
        return dx_f + dx_b, ds_f + ds_b, dw_f + dw_b

    return outputs, forward_finals + backward_finals, vjp
