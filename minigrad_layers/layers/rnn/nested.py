"""Nested sequences: an RNN whose input is a structure of sequences, for a cell that takes a
structure of step tensors (and may return a structure of outputs), as tf.keras 2 allows.

The input of ``RNN(cell)`` may be one Tensor or a list, tuple or dict of Tensors, nested freely;
every leaf is ``(batch, time, ...)`` (``(time, batch, ...)`` when ``time_major``) and all share
batch and time. At step ``t`` the cell's ``call`` receives the same structure of step tensors
``(batch, ...)``, its ``build`` the same structure of step shapes. It may return its output as a
structure too, declared by a nested ``output_size`` (e.g. ``[TensorShape([u1]),
TensorShape([u2, u3])]``). Inside the time loop inputs and outputs travel flat
(``mg.nest.flatten``: dict entries in sorted-key order) and are packed back with
``mg.nest.pack_sequence_as`` to call the cell and to return the results.

A shape is a tuple, which ``mg.nest`` would take apart; the shape structures here (what
``build`` and ``compute_output_shape`` receive) keep every shape whole:

>>> map_shapes(lambda s: s[2:], ((None, 5, 3), {"b": (None, 5, 4, 2)}))
((3,), {'b': (4, 2)})
>>> flatten_shapes([(2, 7, 3), {"b": (2, 7, 4), "a": (2, 7, 1)}])
[(2, 7, 3), (2, 7, 1), (2, 7, 4)]
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

from minigrad.nest import is_nested
from minigrad_layers.engine.functional import is_shape


def map_shapes(fn: Callable, shapes):
    """``fn(shape)`` for every shape (a tuple) of a structure of shapes; lists, tuples and dicts
    are kept."""
    if is_shape(shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, dict):
        return {key: map_shapes(fn, shapes[key]) for key in sorted(shapes)}
    if isinstance(shapes, list | tuple):
        mapped = [map_shapes(fn, s) for s in shapes]
        return mapped if isinstance(shapes, list) else tuple(mapped)
    raise TypeError(f"Expected a shape or a list/tuple/dict of shapes, received {shapes!r}")


def flatten_shapes(shapes) -> list[tuple]:
    """The shapes of a structure of shapes, in ``mg.nest.flatten`` order."""
    found: list[tuple] = []
    map_shapes(found.append, shapes)
    return found


def skeleton(structure):
    """The nesting of a structure (of Tensors or of shapes) with the leaves replaced by their
    shapes, lists and tuples alike written as lists: what messages show and checks compare."""
    if is_nested(structure) and not is_shape(structure):
        if isinstance(structure, dict):
            return {key: skeleton(structure[key]) for key in sorted(structure)}
        return [skeleton(s) for s in structure]
    if is_shape(structure):
        return tuple(structure)
    return tuple(structure.shape) if hasattr(structure, "shape") else np.shape(structure)


def shapes_match(expected, found) -> bool:
    """Whether two skeletons have the same nesting and shapes (``None`` in ``expected`` matches
    any size)."""
    if isinstance(expected, dict) or isinstance(found, dict):
        return (
            isinstance(expected, dict)
            and isinstance(found, dict)
            and expected.keys() == found.keys()
            and all(shapes_match(expected[k], found[k]) for k in expected)
        )
    if isinstance(expected, list) or isinstance(found, list):
        return (
            isinstance(expected, list)
            and isinstance(found, list)
            and len(expected) == len(found)
            and all(shapes_match(e, f) for e, f in zip(expected, found, strict=True))
        )
    return len(expected) == len(found) and all(
        e is None or e == f for e, f in zip(expected, found, strict=True)
    )


def batch_and_steps(shapes: list[tuple], axes: tuple[int, int], layer_name: str, structure):
    """The batch size and number of steps shared by the flat input shapes ``shapes``
    (``axes`` = (batch axis, time axis)); a ValueError naming the layer when they differ."""
    batch_axis, time_axis = axes
    pairs = {(s[batch_axis], s[time_axis]) for s in shapes}
    known = {(b, t) for b, t in pairs if b is not None and t is not None}
    if len({b for b, _ in pairs if b is not None}) > 1 or len(known) > 1:
        raise ValueError(
            f"Layer {layer_name!r}: the sequences of a nested input must share the batch size "
            f"and the number of time steps (axes {batch_axis} and {time_axis}); received shapes "
            f"{skeleton(structure)}"
        )
    batches = [s[batch_axis] for s in shapes if s[batch_axis] is not None]
    steps = [s[time_axis] for s in shapes if s[time_axis] is not None]
    return (batches[0] if batches else None), (steps[0] if steps else None)


def one_mask(masks: list, layer_name: str):
    """The one ``(batch, time)`` mask among the masks given for the leaves of a nested input (or
    None): those that are not None must be equal, since a step is kept or skipped for all."""
    given = [m for m in masks if m is not None]
    if not given:
        return None
    first = np.asarray(given[0].numpy() if hasattr(given[0], "numpy") else given[0])
    for other in given[1:]:
        array = np.asarray(other.numpy() if hasattr(other, "numpy") else other)
        if array.shape != first.shape or not np.array_equal(array, first):
            raise ValueError(
                f"Layer {layer_name!r}: the inputs carry different masks (shapes "
                f"{[np.shape(m) for m in given]}), but one mask (batch, time) must hold for "
                "every sequence of a nested input; pass mask= explicitly"
            )
    return given[0]


@contextmanager
def explained_cell_errors(layer_name: str, cell_name: str, what: str):
    """Re-raise a TypeError, ValueError, IndexError or KeyError of the cell (typically its
    ``build`` or ``call`` unpacking a structure it does not get) as a ValueError that names the
    layer, the cell and ``what`` it was given; the cell's error is chained."""
    try:
        yield
    except (TypeError, ValueError, IndexError, KeyError) as error:
        raise ValueError(
            f"Layer {layer_name!r}: its cell {cell_name} failed {what}. The input must be "
            "nested as the cell's build and call expect it. The cell raised "
            f"{type(error).__name__}: {error}"
        ) from error
