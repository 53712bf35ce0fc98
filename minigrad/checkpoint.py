"""``mg.checkpoint(fn, *args)``: trade memory for recomputation (Chen et al. 2016).

Under a tape, ``y = fn(*args)`` normally leaves every intermediate of ``fn`` on the tape until
the backward sweep. ``mg.checkpoint(fn, *args)`` runs ``fn`` with the tapes paused and records
one op instead, ``checkpoint``, whose inputs are the Tensors in ``args`` and the trainable
Variables ``fn`` used, and whose outputs are ``fn``'s. Only those are kept; when the sweep
reaches the op, its rule runs ``fn`` again under a fresh tape and takes that tape's gradient::

    forward:   y = fn(*args)                 (intermediates dropped)
    backward:  y = fn(*args) again, on a fresh tape T'
               dL/dargs, dL/dW = T'.gradient(y, [args, W], output_gradients=dL/dy)

A chain of ``n`` steps cut into segments of ``k``, each segment one checkpoint, keeps ``n / k``
segment inputs plus, while one segment is being differentiated, its ``k`` intermediates: with
``k = sqrt(n)``, ``2 sqrt(n)`` instead of ``n``, for one extra forward pass. ``fn`` must compute
the same values when run again (draw random masks outside it, or keep them fixed).

>>> w = mg.Variable([0.5, -1.0])
>>> x = mg.tensor([1.0, 2.0])
>>> with mg.GradientTape() as tape:
...     tape.watch(x)
...     y = mg.checkpoint(lambda v: mg.sum(mg.tanh(v * w)), x)
>>> [r.op for r in tape.records]
['checkpoint']
>>> [g.numpy().round(4) for g in tape.gradient(y, [x, w])]
[array([ 0.3932, -0.0707], dtype=float32), array([0.7864, 0.1413], dtype=float32)]
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from minigrad import tape as tape_module
from minigrad.nest import flatten, pack_sequence_as
from minigrad.tape import GradientTape, gradient_rule, record
from minigrad.tensor import Tensor, Variable

__all__ = ["checkpoint"]


def checkpoint(fn, *args):
    """``fn(*args)``, recorded as one op whose gradient re-runs ``fn`` (see the module docs).

    ``args`` may nest Tensors in lists, tuples and dicts; ``fn`` returns a Tensor or a nested
    structure of them. Without an active tape this is just ``fn(*args)``.
    """
    if not callable(fn):
        raise TypeError(f"mg.checkpoint expects a function first, received {type(fn).__name__}")
    if not tape_module.is_recording():
        return fn(*args)
    arg_tensors = [a for a in flatten(args) if isinstance(a, Tensor)]
    with _only(GradientTape()) as probe:
        probe.watch([a for a in arg_tensors if a.dtype.kind == "f"])
        result = fn(*args)
    outputs = flatten(result)
    if not outputs or not all(isinstance(out, Tensor) for out in outputs):
        raise TypeError(
            "mg.checkpoint: fn must return a Tensor or a nested structure of Tensors, it "
            f"returned {type(result).__name__}"
        )
    # copies: an output that is a view (h_T = hs[-1]) would keep fn's whole buffer alive
    outputs = [Tensor(np.array(out._data)) for out in outputs]
    variables = _variables_used(probe, arg_tensors)
    record("checkpoint", (*arg_tensors, *variables), tuple(outputs), fn=fn, args=args)
    return pack_sequence_as(result, outputs)


@gradient_rule("checkpoint", multiple_outputs=True)
def _checkpoint_grad(rec, upstream):
    with _only(GradientTape()) as replay:
        replay.watch([a for a in rec.inputs if a.dtype.kind == "f" and not _is_variable(a)])
        outputs = flatten(rec.attrs["fn"](*rec.attrs["args"]))
    needed = [x for x, need in zip(rec.inputs, rec.needs_grad, strict=True) if need]
    grads = iter(replay.gradient(outputs, needed, output_gradients=upstream))
    return [_numpy(next(grads)) if need else None for need in rec.needs_grad]


def _numpy(g):
    return None if g is None else g.numpy()


def _variables_used(probe: GradientTape, arg_tensors: list[Tensor]) -> list[Variable]:
    """The trainable Variables that ``fn``'s recorded ops read, in first-use order (those passed
    in ``args`` are inputs already)."""
    seen = {id(a) for a in arg_tensors}
    variables = []
    for rec in probe.records:
        for t in rec.inputs:
            if _is_variable(t) and id(t) not in seen:
                seen.add(id(t))
                variables.append(t)
    return variables


def _is_variable(t) -> bool:
    return isinstance(t, Variable) and t.trainable


@contextmanager
def _only(tape: GradientTape):
    """Run a block with ``tape`` as the only active tape (the others paused, then restored)."""
    paused = list(tape_module._active_tapes)
    tape_module._active_tapes[:] = []
    try:
        with tape:
            yield tape
    finally:
        tape_module._active_tapes[:] = paused
