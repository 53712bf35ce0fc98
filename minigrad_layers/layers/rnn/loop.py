"""The time loop of every recurrent layer: a scan over the time axis, recorded step by step.

:func:`scan` runs a step function ``(x_t, states) -> (y_t, new_states)`` over a sequence. Each
step runs inside ``mg.name_scope(f"{name}/t{t}")`` (t in processing order), so a tape can be read
per time step. Masked steps carry the state with ``mg.where`` (exactly zero gradient into the
discarded branch) and truncated BPTT cuts the carried state with ``mg.stop_gradient``.

Per-step weight reads (for BPTT inspection): inside :func:`reading_weights_per_step`, every
``mg.Variable`` attribute of every cell passed to :func:`scan` (``cell.kernel``, ...) is rebound,
for the duration of each step, to ``mg.identity(variable)`` created inside that step's scope, and
restored afterwards. The tape then holds one ``identity`` record per weight per step; the gradient
with respect to its output is the weight's gradient contribution of that step, and these add up to
the weight's full gradient. Cells must therefore read their weights through their attributes at
every call (not keep derived copies across steps). Outside the context manager no extra records
are made. In the same mode each step's carried states leave it through ``mg.identity`` records
in the sub-scope ``f"{name}/t{t}/states"`` (see :func:`_expose_states`), which is where
``mgl.inspect.trace_bptt`` reads the states and their gradients.

>>> import minigrad as mg
>>> step = lambda x, states: (x + states[0], [x + states[0]])  # a running sum
>>> x = mg.tensor([[[1.0], [2.0], [3.0]]])  # (batch=1, T=3, 1)
>>> last, seq, states = scan(step, x, [mg.zeros((1, 1))], name="sum", return_sequences=True)
>>> seq.numpy().ravel(), states[0].numpy().ravel()
(array([1., 3., 6.], dtype=float32), array([6.], dtype=float32))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager

import numpy as np

import minigrad as mg

_per_step_reads = False


@contextmanager
def reading_weights_per_step():
    """While active, every step of :func:`scan` reads each cell weight through a recorded
    ``mg.identity`` inside the step's name scope (see the module docstring)."""
    global _per_step_reads
    previous = _per_step_reads
    _per_step_reads = True
    try:
        yield
    finally:
        _per_step_reads = previous


def is_reading_weights_per_step() -> bool:
    """Whether :func:`reading_weights_per_step` is active (the RNN then never fuses steps)."""
    return _per_step_reads


def _weight_attributes(cells: Iterable) -> list[tuple[object, str, mg.Variable]]:
    """``(owner, attribute name, variable)`` for every Variable attribute of the cells."""
    found = []
    for cell in cells:
        for name, value in list(getattr(cell, "__dict__", {}).items()):
            if isinstance(value, mg.Variable):
                found.append((cell, name, value))
    return found


def _bind(attributes, per_step: bool) -> None:
    """Point each attribute at a fresh identity of its variable, or back at the variable."""
    for owner, name, variable in attributes:
        object.__setattr__(owner, name, mg.identity(variable) if per_step else variable)


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
    cells: Iterable = (),
):
    """Run ``step`` over the time axis of ``inputs``; return ``(last_output, sequence, states)``.

    ``inputs`` is ``(B, T, ...)`` (``(T, B, ...)`` when ``time_major``), ``states`` a flat list
    of Tensors, ``mask`` None or a ``(B, T)`` bool array (True = keep), ``step(x_t, states)``
    returns ``(y_t, new_states)`` with ``new_states`` flat. ``sequence`` is the step outputs
    stacked on the time axis in processing order, or None unless ``return_sequences``. ``cells``
    are the objects whose weights are read per step under :func:`reading_weights_per_step`.

    In plain Python, without the name scopes::

        order = reversed(range(T)) if go_backwards else range(T)
        prev_y, ys = 0, []                              # the output "before the first step" is 0
        for t, i in enumerate(order):                   # t: processing step, i: input position
            if k is not None and t > 0 and t % k == 0:  # truncated BPTT, k = truncate_gradient
                states, prev_y = stop_gradient(states), stop_gradient(prev_y)
            y, new_states = step(x[:, i], states)       # the cell runs even at a masked step
            if mask is not None:                        # m = mask[:, i], broadcast per tensor
                states = [where(m, n, s) for n, s in zip(new_states, states)]
                y = where(m, y, 0 if zero_output_for_mask else prev_y)
            else:
                states = new_states
            prev_y = y
            ys.append(y)
        return ys[-1], stack(ys, time axis) if return_sequences else None, states
    """
    steps = inputs.shape[0 if time_major else 1]
    if steps == 0:
        raise ValueError(f"{name}: the input has no time steps (shape {inputs.shape})")
    time_axis = 0 if time_major else 1
    step_inputs = mg.unstack(inputs, axis=time_axis)  # T tensors (B, ...): one record, whose
    # backward is one stack (a per-step x[:, i] would scatter into a full-size zero array each)
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    inspecting = _per_step_reads
    reads = _weight_attributes(cells) if inspecting else ()
    outputs = []
    y = prev_y = None
    try:
        for t, i in enumerate(order):
            with mg.name_scope(f"{name}/t{t}"):
                if reads:
                    _bind(reads, per_step=True)
                if truncate_gradient is not None and t > 0 and t % truncate_gradient == 0:
                    states = [mg.stop_gradient(s) for s in states]
                    if prev_y is not None:
                        prev_y = mg.stop_gradient(prev_y)
                y, new_states = step(step_inputs[i], states)
                keep = None if mask is None else mask[:, i]  # (B,)
                if keep is None:
                    states = new_states
                else:
                    states = [
                        mg.where(_expand(keep, new.ndim), new, old)
                        for new, old in zip(new_states, states, strict=True)
                    ]
                if inspecting:
                    states, y = _expose_states(states, new_states, y)
                if keep is not None:
                    if zero_output_for_mask:
                        y = mg.where(_expand(keep, y.ndim), y, 0.0)
                    else:
                        if prev_y is None:
                            prev_y = mg.zeros_like(y)
                        y = mg.where(_expand(keep, y.ndim), y, prev_y)
                    prev_y = y
                if return_sequences:
                    outputs.append(mg.expand_dims(y, time_axis))
                if reads:
                    _bind(reads, per_step=False)
    finally:
        if reads:
            _bind(reads, per_step=False)
    sequence = mg.concat(outputs, axis=time_axis) if return_sequences else None
    return y, sequence, states


def _expose_states(states: list, new_states: list, y: mg.Tensor):
    """Inspection mode: the carried states leave the step through ``mg.identity`` records in the
    sub-scope ``states``, so the gradient with respect to their outputs is dL/d(state after the
    step), everything downstream included. When the cell's output is one of its new states (as
    for the built-in cells), the step output is taken from that exposed state, so its gradient
    also carries the loss's direct part (the ``dh`` of a hand-written BPTT loop). Values are
    unchanged."""
    with mg.name_scope("states"):
        exposed = [mg.identity(s) for s in states]
    for k, new in enumerate(new_states):
        if new is y:
            return exposed, exposed[k]
    return exposed, y


def _expand(keep: np.ndarray, ndim: int) -> mg.Tensor:
    """The ``(B,)`` step mask as ``(B, 1, ..., 1)`` with ``ndim`` axes, ready to broadcast."""
    return mg.Tensor(keep.reshape(keep.shape + (1,) * (ndim - 1)))
