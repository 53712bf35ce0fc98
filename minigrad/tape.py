"""The gradient tape: a Wengert list of recorded ops, swept once in reverse.

While a :class:`GradientTape` is active, every op with an input that the tape watches appends one
:class:`Record` ``(op, inputs, outputs, scope)`` and its outputs become watched too. Recording
order is execution order, which is already a topological order of the computation graph, so
``gradient()`` is a single loop over ``reversed(records)``: no graph search and no recursion,
however long the chain (a 3,000-step recurrence differentiates like a 3-step one).

For each record, with ``y = op(x_1, ..., x_n)`` and the upstream gradient ``dL/dy``, the op's
gradient rule returns ``dL/dx_i = dL/dy · ∂y/∂x_i``; contributions to the same Tensor add up
(a weight used at every timestep), and a gradient is dropped as soon as its producer is done.

>>> import minigrad as mg
>>> w = mg.Variable([1.0, 2.0])
>>> with mg.GradientTape() as tape:
...     with mg.name_scope("layer"):
...         y = mg.sum(w * w)
>>> tape.gradient(y, w).numpy()
array([2., 4.], dtype=float32)
>>> [(r.op, r.scope) for r in tape.records]
[('multiply', 'layer'), ('sum', 'layer')]
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from minigrad import binary_kernels, kernels, tape_picture
from minigrad.nest import flatten, pack_sequence_as
from minigrad.tensor import Tensor, Variable

GRADIENT_RULES: dict = {}
"""op name -> rule(record, upstream) returning one gradient (or None) per input."""
MULTI_OUTPUT_OPS: set = set()
"""ops whose rule receives a list of upstream gradients, one per output (zeros where unused)."""

_active_tapes: list[GradientTape] = []
_scopes: list[str] = []


def gradient_rule(op_name: str, multiple_outputs: bool = False):
    """Register the decorated function as the gradient rule of ``op_name``."""

    def register(rule):
        GRADIENT_RULES[op_name] = rule
        if multiple_outputs:
            MULTI_OUTPUT_OPS.add(op_name)
        return rule

    return register


class Record:
    """One recorded op: ``outputs = op(*inputs)`` inside name scope ``scope``.

    ``needs_grad[i]`` tells whether input i was watched when the op ran (so the rule may skip the
    others); ``attrs`` holds what the gradient rule needs besides inputs and outputs (an axis...).
    """

    __slots__ = ("op", "inputs", "outputs", "scope", "needs_grad", "attrs")

    def __init__(self, op, inputs, outputs, scope, needs_grad, attrs):
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.scope = scope
        self.needs_grad = needs_grad
        self.attrs = attrs

    def __repr__(self):
        ins = ", ".join(str(t.shape) for t in self.inputs)
        outs = ", ".join(str(t.shape) for t in self.outputs)
        scope = f" scope={self.scope!r}" if self.scope else ""
        return f"Record({self.op}: ({ins}) -> ({outs}){scope})"


def is_recording() -> bool:
    """True when at least one tape is active: an op checks this once, after computing its output,
    and calls :func:`record` only when it is true (no tape, no bookkeeping)."""
    return bool(_active_tapes)


def record(op: str, inputs: tuple, outputs: tuple, **attrs) -> None:
    """Append a Record to every active tape that watches one of ``inputs``."""
    scope = _scopes[-1] if _scopes else ""
    for tape in _active_tapes:  # (written for speed: this runs once per op under a tape)
        watched = tape._watched
        needs_grad = tuple(
            [id(t) in watched or (isinstance(t, Variable) and t.trainable) for t in inputs]
        )
        if True in needs_grad:
            tape._records.append(Record(op, inputs, outputs, scope, needs_grad, attrs))
            for out in outputs:
                watched.add(id(out))


@contextmanager
def name_scope(name: str):
    """Name the ops recorded inside; scopes nest with ``/``.

    >>> with mg.name_scope("rnn"), mg.name_scope("t3"):
    ...     pass  # ops recorded here carry scope "rnn/t3"
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name_scope expects a non-empty string, received {name!r}")
    _scopes.append(f"{_scopes[-1]}/{name}" if _scopes else name)
    try:
        yield _scopes[-1]
    finally:
        _scopes.pop()


class GradientTape:
    """Records ops on watched Tensors, then differentiates by one reverse sweep.

    Trainable Variables are watched automatically; other Tensors through :meth:`watch`.
    A non-persistent tape answers ``gradient`` once; ``persistent=True`` allows several calls.

    >>> x = mg.tensor([3.0])
    >>> with mg.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * x
    >>> tape.gradient(y, x).numpy()
    array([6.], dtype=float32)
    """

    def __init__(self, persistent: bool = False):
        self.persistent = persistent
        self._records: list[Record] = []
        self._watched: set[int] = set()
        self._watched_tensors: list[Tensor] = []  # keeps watched ids alive and unique
        self._inner_gradients: dict[int, Tensor] = {}  # see _watch_inner_gradients
        self._used = False

    def __enter__(self):
        _active_tapes.append(self)
        return self

    def __exit__(self, *exc):
        _active_tapes.remove(self)
        return False

    @property
    def records(self) -> list[Record]:
        """The recorded ops, in execution order."""
        return self._records

    def to_dot(self, path=None) -> str:
        """The recorded graph in Graphviz's DOT language, one cluster per name scope (see
        :mod:`minigrad.tape_picture`); with ``path`` (``.dot``, ``.png``, ``.svg``) also written
        there, rendered by Graphviz's ``dot`` program for an image."""
        text = tape_picture.to_dot(self._records)
        if path is not None:
            tape_picture.render(text, path)
        return text

    def watch(self, tensor) -> None:
        """Watch a Tensor (or a nested list/tuple/dict of them) so ops on it are recorded."""
        for t in flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"GradientTape.watch expects a minigrad Tensor, received {type(t).__name__}; "
                    "wrap arrays with mg.tensor(...) first"
                )
            self._watched.add(id(t))
            self._watched_tensors.append(t)

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients: str = "none"):
        """dtarget/dsources, with ``sources`` nested as a Tensor, list, tuple or dict.

        ``target`` is a Tensor or a list of them; a non-scalar target is differentiated as its
        sum unless ``output_gradients`` (the upstream gradient, same structure) is given.
        An unconnected source gets ``None``, or zeros when ``unconnected_gradients="zero"``.
        """
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                "unconnected_gradients must be 'none' or 'zero', "
                f"received {unconnected_gradients!r}"
            )
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients; create it with GradientTape(persistent=True) to call gradient() again"
            )
        flat_sources = flatten(sources)
        for s in flat_sources:
            if not isinstance(s, Tensor):
                raise TypeError(f"gradient sources must be Tensors, received {type(s).__name__}")
        grads = self._seed(target, output_gradients)
        self._used = True  # only once the arguments are valid: a bad call leaves the tape usable
        found = self._sweep(grads, {id(s) for s in flat_sources})
        results = []
        for s in flat_sources:
            g = found.get(id(s))
            if g is None and unconnected_gradients == "zero":
                g = np.zeros(s.shape, dtype=s.dtype)
            results.append(None if g is None else Tensor(g.astype(s.dtype, copy=False)))
        if _active_tapes:
            computed = [r for s, r in zip(flat_sources, results, strict=True) if id(s) in found]
            for tape in _active_tapes:
                tape._watch_inner_gradients(computed)
        return pack_sequence_as(sources, results)

    def _watch_inner_gradients(self, tensors: list[Tensor]) -> None:
        """Watch gradients that a ``gradient()`` call made while this tape records.

        Gradient rules compute in numpy, unrecorded, so the derivative of a gradient is unknown:
        second-order gradients are not supported. Ops on these Tensors are recorded, and a reverse
        sweep that reaches one (or starts at one) raises instead of returning a wrong or missing
        gradient. A gradient that is only used first-order (an optimizer step) is harmless."""
        for t in tensors:
            self._watched.add(id(t))
            self._inner_gradients[id(t)] = t

    def _seed(self, target, output_gradients) -> dict[int, np.ndarray]:
        """The starting gradients {id(target_i): dL/dtarget_i}: ones, or output_gradients."""
        targets = flatten(target)
        upstream = [None] * len(targets) if output_gradients is None else flatten(output_gradients)
        if len(upstream) != len(targets):
            raise ValueError(
                f"output_gradients has {len(upstream)} entries but target has {len(targets)}"
            )
        grads: dict[int, np.ndarray] = {}
        for t, g in zip(targets, upstream, strict=True):
            if not isinstance(t, Tensor):
                raise TypeError(f"gradient target must be a Tensor, received {type(t).__name__}")
            if g is None:
                g = np.ones(t.shape, dtype=t.dtype)
            else:
                g = np.asarray(g.numpy() if isinstance(g, Tensor) else g, dtype=t.dtype)
                if g.shape != t.shape:
                    raise ValueError(
                        f"output_gradients shape {g.shape} does not match target shape {t.shape}"
                    )
            _accumulate(grads, set(), id(t), g)
        return grads

    def _sweep(self, grads: dict[int, np.ndarray], wanted: set[int]) -> dict[int, np.ndarray]:
        """Walk the records in reverse; return the gradients of the ``wanted`` Tensor ids.

        (Written for speed: this loop runs once per recorded op in every training step.)
        """
        found = {}
        owned: set[int] = set()  # ids whose gradient buffer this sweep allocated: safe to add into
        rules = GRADIENT_RULES
        for rec in reversed(self._records):
            outputs = rec.outputs
            if len(outputs) == 1 and rec.op not in MULTI_OUTPUT_OPS:
                key = id(outputs[0])
                upstream = grads.pop(key, None)
                if upstream is None:
                    continue
                if key in wanted:
                    found[key] = upstream
                input_grads = rules[rec.op](rec, upstream)
            else:
                upstream = [grads.pop(id(out), None) for out in outputs]
                for out, g in zip(outputs, upstream, strict=True):
                    if g is not None and id(out) in wanted:
                        found[id(out)] = g
                if all(g is None for g in upstream):
                    continue
                filled = [
                    np.zeros(o.shape, o.dtype) if g is None else g
                    for o, g in zip(outputs, upstream, strict=True)
                ]
                input_grads = rules[rec.op](rec, filled)
            for x, needed, g in zip(rec.inputs, rec.needs_grad, input_grads, strict=True):
                if needed and g is not None:
                    shape = x._data.shape
                    _accumulate(
                        grads, owned, id(x), g if g.shape == shape else unbroadcast(g, shape)
                    )
        for key in wanted:  # leaves (never produced by a record) and the target itself
            if key in grads:
                found[key] = grads[key]
        if self._inner_gradients and not grads.keys().isdisjoint(self._inner_gradients):
            reached = next(t for key, t in self._inner_gradients.items() if key in grads)
            raise ValueError(
                "GradientTape.gradient: higher-order gradients are not supported: the path from "
                f"the target reaches a Tensor of shape {reached.shape} that was produced by an "
                "inner GradientTape.gradient call while this tape was recording (gradient rules "
                "are not recorded, so its derivative is unknown); expected a target that does not "
                "depend on a gradient, or wrap the gradient in mg.stop_gradient to use it as a "
                "constant"
            )
        return found


def _accumulate(grads: dict[int, np.ndarray], owned: set[int], key: int, g: np.ndarray) -> None:
    """grads[key] += g. The first contribution is stored as it is (it may be shared, e.g. the
    upstream gradient that ``add`` hands to both inputs); the second makes a fresh buffer that
    this sweep owns, and later ones are added into it in place (a weight used at T steps costs
    one allocation, not T)."""
    previous = grads.get(key)
    if previous is None:
        grads[key] = g
    elif key in owned:
        np.add(previous, g, out=previous)
    else:
        grads[key] = binary_kernels.add(previous, g)
        owned.add(key)


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` down to ``shape``: undoes numpy broadcasting, in this one place for every op.

    Leading axes that broadcasting added are summed away; axes where ``shape`` has 1 are summed
    with keepdims. E.g. a bias ``(H,)`` added to ``(B, H)`` gets ``g.sum(axis=0)``.
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = kernels.sum_leading(g, extra)
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if ones:
        g = g.sum(axis=ones, keepdims=True)
    return g
