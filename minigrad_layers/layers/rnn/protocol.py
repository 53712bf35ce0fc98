"""Helpers for the cell protocol (documented once, in :class:`minigrad_layers.RNN`).

A cell's ``state_size`` is an int, a ``TensorShape``, or a list/tuple of those (possibly nested).
Inside the time loop the states travel as a *flat* list of Tensors, in depth-first order; they are
packed into the user-facing nesting only to call a cell and to return them:

* ``state_size=4``              -> flat ``[h]``,          packed ``[h]``
* ``state_size=[4, 2]``         -> flat ``[h, m]``,       packed ``[h, m]``
* ``state_size=(3, [4, 4], 2)`` -> flat ``[a, b, c, d]``, packed ``[a, [b, c], d]``
  (stacked cells: one entry per cell, a list for a cell with a list/tuple ``state_size``)

A cell's ``output_size`` is one int or ``TensorShape``, or a nested list/tuple/dict of them for a
cell with several outputs (:func:`output_shapes`, :func:`pack_outputs`).

>>> from minigrad_layers.engine.tensor_shape import TensorShape
>>> state_shapes((3, [4, TensorShape((2, 5))]))
[(3,), (4,), (2, 5)]
>>> pack_states((3, [4, 4]), ["a", "b", "c"])
['a', ['b', 'c']]
"""

from __future__ import annotations

import copy
import functools
import inspect

import numpy as np

import minigrad as mg
from minigrad.nest import flatten, is_nested, pack_sequence_as
from minigrad_layers.engine.layer import Layer
from minigrad_layers.engine.tensor_shape import TensorShape


def is_multiple_state(state_size) -> bool:
    """True when ``state_size`` lists several states (a list or tuple; a TensorShape is one)."""
    return isinstance(state_size, list | tuple)


def size_to_shape(size) -> tuple[int, ...]:
    """The per-sample shape of one state or output: ``4 -> (4,)``, ``TensorShape((3, 2)) ->
    (3, 2)``."""
    if isinstance(size, TensorShape):
        if any(d is None for d in size):
            raise ValueError(f"A state or output size must be fully known, received {size!r}")
        return size.as_tuple()
    if isinstance(size, int | np.integer) and not isinstance(size, bool):
        return (int(size),)
    raise TypeError(
        "A state or output size must be an int or a TensorShape (a list or tuple means several "
        f"states), received {size!r} of type {type(size).__name__}"
    )


def shape_to_size(shape: tuple[int, ...]):
    """Inverse of :func:`size_to_shape`: an int for a 1-D shape, else a TensorShape."""
    return shape[0] if len(shape) == 1 else TensorShape(shape)


def state_shapes(state_size) -> list[tuple[int, ...]]:
    """Per-sample shapes of the flat states, in depth-first order."""
    if is_multiple_state(state_size):
        return [shape for entry in state_size for shape in state_shapes(entry)]
    return [size_to_shape(state_size)]


def pack_states(state_size, flat: list) -> list:
    """Nest the flat states as the cell and the user see them: a list with one entry per element
    of ``state_size`` (a list for a list/tuple element), or ``[state]`` for a single state."""
    if not is_multiple_state(state_size):
        return [flat[0]]
    leaves = iter(flat)

    def pack(size):
        if is_multiple_state(size):
            return [pack(s) for s in size]
        return next(leaves)

    return [pack(s) for s in state_size]


def output_shape(cell) -> tuple[int, ...] | None:
    """Per-sample output shape of a cell with one output: ``cell.output_size`` when set, else the
    first state's shape (None when the cell has neither)."""
    size = getattr(cell, "output_size", None)
    if is_nested(size):
        raise ValueError(
            f"The cell {cell_name(cell)} has several outputs (output_size={size!r}), where one "
            "output is needed (e.g. from a cell inside StackedRNNCells)"
        )
    if size is not None:
        return size_to_shape(size)
    shapes = state_shapes(cell.state_size)
    return shapes[0] if shapes else None


def output_shapes(cell) -> list[tuple[int, ...]]:
    """Per-sample shapes of the flat outputs: one per leaf of a nested ``output_size`` (a list,
    tuple or dict of ints and TensorShapes), else the one of :func:`output_shape` (``[]`` when
    the cell has no output_size and no state)."""
    size = getattr(cell, "output_size", None)
    if is_nested(size):
        return [size_to_shape(s) for s in flatten(size)]
    shape = output_shape(cell)
    return [] if shape is None else [shape]


def pack_outputs(cell, flat: list):
    """The flat outputs nested like a nested ``output_size``, else the one output itself."""
    size = getattr(cell, "output_size", None)
    return pack_sequence_as(size, flat) if is_nested(size) else flat[0]


def cell_name(cell) -> str:
    """How messages name a cell: ``'lstm_cell' (LSTMCell)`` for a Layer, else its class."""
    name = getattr(cell, "name", None)
    kind = type(cell).__name__
    return f"{name!r} ({kind})" if isinstance(name, str) else kind


def check_cell(cell, who: str = "The RNN cell") -> None:
    """Raise ValueError unless ``cell`` has a callable ``call`` and a ``state_size``."""
    if not callable(getattr(cell, "call", None)):
        raise ValueError(
            f"{who} should have a `call` method (call(inputs_at_t, states_at_t) -> "
            f"(output_at_t, new_states)). Received: cell={cell!r}"
        )
    if not hasattr(cell, "state_size"):
        raise ValueError(
            f"{who} should have a `state_size` attribute (an int, a TensorShape, or a list/tuple "
            f"of those, one entry per state). Received: cell={cell!r}"
        )


@functools.lru_cache(maxsize=256)
def _parameters(function) -> frozenset[str]:
    return frozenset(inspect.signature(function).parameters)


def call_accepts(cell, argument: str) -> bool:
    """Whether ``cell.call`` names ``argument`` in its signature (``**kwargs`` does not count, as
    in Keras). The inspection is cached per function."""
    call = cell.call
    return argument in _parameters(getattr(call, "__func__", call))


def build_cell(cell, step_shape: tuple) -> None:
    """Build a cell that has a ``build`` method and is not built yet, on the step input shape
    ``(batch, *features)``, and mark it built."""
    build = getattr(cell, "build", None)
    if callable(build) and not getattr(cell, "built", False):
        build(step_shape)
        cell.built = True


def iter_cells(cell):
    """``cell`` and, recursively, the cells it stacks (``cell.cells``), in order."""
    yield cell
    for inner in getattr(cell, "cells", ()):
        yield from iter_cells(inner)


def reset_dropout_masks(cell) -> None:
    """Call ``reset_dropout_mask()`` / ``reset_recurrent_dropout_mask()`` on every cell that has
    them, so dropout masks are drawn once per sequence and reused at every step."""
    for c in iter_cells(cell):
        for hook in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            reset = getattr(c, hook, None)
            if callable(reset):
                reset()


def zero_states(state_size, batch_size, dtype) -> list[mg.Tensor]:
    """Flat zero states ``(batch_size, *shape)`` for every state of ``state_size``."""
    if batch_size is None or dtype is None:
        raise ValueError(
            "batch_size and dtype cannot be None while constructing initial state: "
            f"batch_size={batch_size}, dtype={dtype}"
        )
    return [mg.zeros((batch_size, *shape), dtype=dtype) for shape in state_shapes(state_size)]


def initial_states(cell, batch_size: int, dtype) -> list[mg.Tensor]:
    """Flat initial states: the cell's ``get_initial_state(inputs=None, batch_size, dtype)`` when
    it has one, else zeros. Count and shapes are checked against ``cell.state_size``."""
    get_initial_state = getattr(cell, "get_initial_state", None)
    if not callable(get_initial_state):
        return zero_states(cell.state_size, batch_size, dtype)
    given = flatten(get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype))
    states = [s if isinstance(s, mg.Tensor) else mg.tensor(s, dtype=dtype) for s in given]
    expected = [(batch_size, *shape) for shape in state_shapes(cell.state_size)]
    found = [s.shape for s in states]
    if found != expected:
        raise ValueError(
            f"{type(cell).__name__}.get_initial_state returned states of shapes {found}, but "
            f"its state_size {cell.state_size!r} needs {expected}"
        )
    return states


def _defines_get_config(cell) -> bool:
    """True when the cell's class (below any Layer base) writes its own ``get_config``."""
    for klass in type(cell).__mro__:
        if "get_config" in vars(klass):
            return klass is not Layer
    return False


def clone_cell(cell):
    """A fresh, unbuilt copy of ``cell``: rebuilt from ``get_config()`` when its class writes one
    (the built-in cells do), else ``copy.deepcopy`` (custom cells; pass them unbuilt)."""
    if _defines_get_config(cell):
        config = cell.get_config()
        from_config = getattr(type(cell), "from_config", None)
        return from_config(config) if from_config is not None else type(cell)(**config)
    return copy.deepcopy(cell)
