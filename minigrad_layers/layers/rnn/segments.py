"""Memory-efficient BPTT (``RNN(..., checkpoint_every=k)``): the sequence in segments of ``k``
steps, each segment one ``mg.checkpoint``.

Plain BPTT keeps what every step computed until the backward sweep: memory grows with T. Here the
tape keeps, per segment, only its inputs (the carried states, the segment of the input sequence)
and its outputs; when the sweep reaches a segment, the segment runs again under a fresh tape and
is differentiated, its intermediates freed before the next one (Chen et al. 2016; Gruslys et al.
2016 choose the segments optimally). With ``k = sqrt(T)`` about ``2 sqrt(T)`` states are held at
once instead of ``T``, for one extra forward pass; the gradients are the same numbers::

    for each segment [s, s + k) in processing order:
        y_seg, states = checkpoint(run, x[:, s : s + k], states)   # recomputed in the sweep

A segment runs the fused path or the per-step loop, whichever the layer takes, over its steps.
Masks need one correction at the seams: a masked step outputs the last unmasked step's output,
which may lie in an earlier segment (a segment's own loop would output zeros there).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import minigrad as mg
from minigrad.nest import flatten, map_structure


def scan(
    run: Callable,
    inputs: mg.Tensor,
    states: list[mg.Tensor],
    *,
    every: int,
    mask: np.ndarray | None,
    time_major: bool,
    go_backwards: bool,
    zero_output_for_mask: bool,
    return_sequences: bool,
):
    """``(last_output, sequence, states)`` as one ``run`` over the whole sequence would give.

    ``run(x_segment, states, mask_segment)`` processes a segment (time axis as ``inputs``) and
    returns ``(last_output, sequence_or_None, states)`` with the layer's semantics. ``inputs``
    may be a nested structure of sequences, and the outputs a structure of Tensors.
    """
    time_axis = 0 if time_major else 1
    steps = flatten(inputs)[0].shape[time_axis]
    bounds = [(s, min(s + every, steps)) for s in range(0, steps, every)]
    if go_backwards:  # processing order starts at the end of the sequence
        bounds.reverse()
    seen = None if mask is None else np.zeros(mask.shape[0], bool)  # rows with an unmasked step
    last, pieces = None, []
    for start, stop in bounds:
        x_segment = map_structure(lambda x, a=start, b=stop: _slice(x, time_axis, a, b), inputs)
        mask_segment = None if mask is None else mask[:, start:stop]

        def run_segment(x, carried, mask_segment=mask_segment):
            seg_last, seg_sequence, seg_states = run(x, list(carried), mask_segment)
            return (
                [seg_last, seg_sequence, seg_states] if return_sequences else [seg_last, seg_states]
            )

        result = mg.checkpoint(run_segment, x_segment, list(states))
        seg_last, seg_sequence, states = (
            result if return_sequences else (result[0], None, result[1])
        )
        if mask is not None and last is not None and not zero_output_for_mask:
            seg_last, seg_sequence = _carry_output(
                last, seg_last, seg_sequence, mask_segment, seen, go_backwards, time_axis
            )
        if mask is not None:
            seen = seen | mask_segment.any(axis=1)
        last = seg_last
        pieces.append(seg_sequence)
    sequence = None
    if return_sequences:
        sequence = map_structure(lambda *p: mg.concat(list(p), axis=time_axis), *pieces)
    return last, sequence, states


def _carry_output(previous, seg_last, seg_sequence, mask_segment, seen, go_backwards, time_axis):
    """Where a row's steps in this segment are all masked so far but the row had an unmasked step
    before the segment, the output is ``previous`` (the last output so far), not zeros. The
    outputs may be structures: every leaf is carried alike."""
    in_order = mask_segment[:, ::-1] if go_backwards else mask_segment  # processing order
    seen_in_segment = np.logical_or.accumulate(in_order, axis=1)  # (B, k)
    carry = ~seen_in_segment & seen[:, None]
    if not carry.any():
        return seg_last, seg_sequence
    steps_carry = carry if time_axis == 1 else carry.T  # like the sequence's leading axes

    def last_leaf(before, last):
        last_carry = carry[:, -1].reshape((-1,) + (1,) * (last.ndim - 1))
        return mg.where(mg.Tensor(last_carry), before, last)

    def sequence_leaf(before, sequence):
        shape = steps_carry.shape + (1,) * (sequence.ndim - 2)
        return mg.where(
            mg.Tensor(steps_carry.reshape(shape)), mg.expand_dims(before, time_axis), sequence
        )

    seg_last = map_structure(last_leaf, previous, seg_last)
    if seg_sequence is not None:
        seg_sequence = map_structure(sequence_leaf, previous, seg_sequence)
    return seg_last, seg_sequence


def _slice(x: mg.Tensor, axis: int, start: int, stop: int) -> mg.Tensor:
    index = (slice(None),) * axis + (slice(start, stop),)
    return x[index]
