"""The time loop of every recurrent layer: a scan over the time axis, recorded step by step.

:func:`scan` runs a step function ``(x_t, states) -> (y_t, new_states)`` over a sequence. Each
step runs inside ``mg.name_scope(step_scope(name, t))``, i.e. ``f"{name}/t{t}"`` with t in
processing order, so a tape can be read per time step. Masked steps carry the state with
``mg.where`` (exactly zero gradient into the discarded branch) and truncated BPTT cuts the carried
state with ``mg.stop_gradient``.

**The observer protocol.** ``scan(..., observer=...)`` takes a :class:`StepObserver` (subclass it
and override one hook or both); it sees every step and may route the carried states through ops
of its own. Both hooks run inside the step's name scope:

* ``enter_step(t, x_t, states, keep)``, first thing in the step: ``t`` the processing step,
  ``x_t`` the step input ``(B, ...)`` (the input at position ``T-1-t`` under ``go_backwards``;
  a structure of them for a nested input),
  ``states`` the flat carried states the step starts from (the very Tensors the previous step
  left, before any truncation cut), ``keep`` the ``(B,)`` bool step mask, or None without a mask.
* ``leave_step(t, states, output, cell_states) -> (states, output)``, after the cell ran and the
  states were masked, before the output is masked: ``states`` the carried states after the step,
  ``output`` the step's output as the cell returned it (a structure for several outputs),
  ``cell_states`` the new states as the cell returned them (before masking; the built-in cells
  return their output as one of them). The
  returned states are carried on and the returned output is masked and used as ``y_t``; they must
  hold the same values (e.g. ``mg.identity`` copies, whose gradients a tape then reports; ops an
  observer adds for the states go in the sub-scope :data:`STATES_SCOPE`, ``f"{name}/t{t}/states"``).

When a step raises, ``leave_step`` is not called: whoever attaches an observer that changes
something at ``enter_step`` undoes it when the call ends (``mgl.inspect`` does). The RNN attaches
its ``step_observer`` here, and takes the fused path of ``fused.py`` only when it has none.

>>> import minigrad as mg
>>> step = lambda x, states: (x + states[0], [x + states[0]])  # a running sum
>>> x = mg.tensor([[[1.0], [2.0], [3.0]]])  # (batch=1, T=3, 1)
>>> last, seq, states = scan(step, x, [mg.zeros((1, 1))], name="sum", return_sequences=True)
>>> seq.numpy().ravel(), states[0].numpy().ravel()
(array([1., 3., 6.], dtype=float32), array([6.], dtype=float32))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import minigrad as mg
from minigrad.nest import flatten, pack_sequence_as

STATES_SCOPE = "states"  # the sub-scope of a step where an observer may expose its states


def step_scope(name: str, t: int) -> str:
    """The name scope of processing step ``t`` of the recurrent layer ``name``."""
    return f"{name}/t{t}"


class StepObserver:
    """Sees every step of :func:`scan` (see the module docstring); this base class changes
    nothing, so a subclass overrides only the hooks it needs."""

    def enter_step(self, t: int, x_t: mg.Tensor, states: list, keep: np.ndarray | None) -> None:
        """Step ``t`` starts from ``states`` on input ``x_t`` with step mask ``keep``."""

    def leave_step(self, t: int, states: list, output: mg.Tensor, cell_states: list):
        """Step ``t`` ends with ``states`` and ``output``; return the pair to carry on."""
        return states, output


_UNOBSERVED = StepObserver()


def scan(
    step: Callable,
    inputs: mg.Tensor,
    states: list[mg.Tensor],
    *,
    name: str,
    mask: np.ndarray | None = None,
    time_major: bool = False,
    go_backwards: bool = False,
    zero_output_for_mask: bool = False,
    truncate_gradient: int | None = None,
    return_sequences: bool = False,
    observer: StepObserver | None = None,
):
    """Run ``step`` over the time axis of ``inputs``; return ``(last_output, sequence, states)``.

    ``inputs`` is ``(B, T, ...)`` (``(T, B, ...)`` when ``time_major``), or a nested structure
    (lists, tuples, dicts) of such Tensors sharing B and T, ``states`` a flat list of Tensors,
    ``mask`` None or a ``(B, T)`` bool array (True = keep), ``step(x_t, states)`` returns
    ``(y_t, new_states)`` with ``new_states`` flat. ``x_t`` has the nesting of ``inputs``, and
    ``y_t`` may be nested: every leaf is masked alike, and ``last_output`` and ``sequence`` have
    the nesting of ``y_t``. ``sequence`` is the step outputs stacked on the time axis in
    processing order, or None unless ``return_sequences``. ``observer`` (a
    :class:`StepObserver`) sees every step.

    In plain Python for one input and one output, without the name scopes (``observer``
    defaults to one that changes nothing)::

        order = reversed(range(T)) if go_backwards else range(T)
        prev_y, ys = 0, []                              # the output "before the first step" is 0
        for t, i in enumerate(order):                   # t: processing step, i: input position
            m = None if mask is None else mask[:, i]    # broadcast per tensor
            observer.enter_step(t, x[:, i], states, m)
            if k is not None and t > 0 and t % k == 0:  # truncated BPTT, k = truncate_gradient
                states, prev_y = stop_gradient(states), stop_gradient(prev_y)
            y, new_states = step(x[:, i], states)       # the cell runs even at a masked step
            if m is not None:
                states = [where(m, n, s) for n, s in zip(new_states, states)]
            else:
                states = new_states
            states, y = observer.leave_step(t, states, y, new_states)
            if m is not None:
                y = where(m, y, 0 if zero_output_for_mask else prev_y)
            prev_y = y
            ys.append(y)
        return ys[-1], stack(ys, time axis) if return_sequences else None, states
    """
    time_axis = 0 if time_major else 1
    flat_inputs = flatten(inputs)
    steps = flat_inputs[0].shape[time_axis]
    if steps == 0:
        raise ValueError(f"{name}: the input has no time steps (shape {flat_inputs[0].shape})")
    observer = _UNOBSERVED if observer is None else observer
    # T tensors (B, ...) per sequence: one record each, whose backward is one stack (a per-step
    # x[:, i] would scatter into a full-size zero array each)
    unstacked = [mg.unstack(x, axis=time_axis) for x in flat_inputs]
    step_inputs = [pack_sequence_as(inputs, [u[i] for u in unstacked]) for i in range(steps)]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    outputs = []  # per step: the flat outputs, (B, 1, ...) or (1, B, ...)
    prev_ys = None  # None stands for the zeros "before the first step"
    for t, i in enumerate(order):
        keep = None if mask is None else mask[:, i]  # (B,)
        with mg.name_scope(step_scope(name, t)):
            observer.enter_step(t, step_inputs[i], states, keep)
            if truncate_gradient is not None and t > 0 and t % truncate_gradient == 0:
                states = [mg.stop_gradient(s) for s in states]
                prev_ys = None if prev_ys is None else [mg.stop_gradient(y) for y in prev_ys]
            y, new_states = step(step_inputs[i], states)
            if keep is not None:
                states = [
                    mg.where(_expand(keep, new.ndim), new, old)
                    for new, old in zip(new_states, states, strict=True)
                ]
            else:
                states = new_states
            states, y = observer.leave_step(t, states, y, new_states)
            flat_ys = flatten(y)
            if keep is not None:
                hidden = prev_ys
                if zero_output_for_mask or prev_ys is None:
                    hidden = [0.0] * len(flat_ys)
                flat_ys = [
                    mg.where(_expand(keep, y_leaf.ndim), y_leaf, h)
                    for y_leaf, h in zip(flat_ys, hidden, strict=True)
                ]
            prev_ys = flat_ys
            if return_sequences:
                outputs.append([mg.expand_dims(y_leaf, time_axis) for y_leaf in flat_ys])
    last_output = pack_sequence_as(y, flat_ys)
    sequence = None
    if return_sequences:
        sequence = pack_sequence_as(
            y, [mg.concat(list(leaf), axis=time_axis) for leaf in zip(*outputs, strict=True)]
        )
    return last_output, sequence, states


def _expand(keep: np.ndarray, ndim: int) -> mg.Tensor:
    """The ``(B,)`` step mask as ``(B, 1, ..., 1)`` with ``ndim`` axes, ready to broadcast."""
    return mg.Tensor(keep.reshape(keep.shape + (1,) * (ndim - 1)))
