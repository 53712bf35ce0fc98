"""Symbolic tensors and the graph that ``Model(inputs, outputs)`` replays.

``Input(shape)`` returns a :class:`SymbolicTensor`: a shape (batch first, ``None`` where unknown)
and a dtype, with no values. Calling a layer on symbolic tensors (anywhere in its arguments,
e.g. ``initial_state=``) builds the layer from the input shapes, records a :class:`Node` (the
layer and the call's arguments, with the symbolic tensors in place) and returns symbolic
outputs. Their shapes come from ``layer.compute_output_shape`` when the layer defines it, else
from two probes: ``call`` runs on zeros where every unknown size is 2, then 3, and the output
sizes that changed are unknown. ``Model`` replays the nodes in order on concrete Tensors.

>>> import minigrad_layers as mgl
>>> x = mgl.Input((None, 5))
>>> x.shape, x.dtype
((None, None, 5), 'float32')
>>> mgl.Dense(3)(x).shape
(None, None, 3)
"""

from __future__ import annotations

import itertools

import numpy as np

import minigrad as mg
from minigrad.nest import flatten, map_structure, pack_sequence_as
from minigrad_layers.engine import call_context

__all__ = ["Node", "SymbolicTensor"]


class SymbolicTensor:
    """A placeholder for a value a layer will produce when a Model runs: ``shape`` (a tuple,
    batch first, ``None`` for unknown sizes), ``dtype`` (a string) and the node that makes it."""

    __slots__ = ("shape", "dtype", "name", "_node")

    def __init__(self, shape: tuple, dtype: str, name: str = ""):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self._node: Node | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype} name={self.name!r}>"

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"{self!r} has no value: it only describes what a layer will produce inside a "
            "Model. Compute with it by calling layers on it (wrap other operations in a Layer), "
            "or call the Model on data"
        )


class Node:
    """One recorded layer call: ``outputs = layer(*args, **kwargs)``, where ``args`` and
    ``kwargs`` hold SymbolicTensors (and constants) in their original nesting."""

    _counter = itertools.count()

    def __init__(self, layer, args: tuple, kwargs: dict, outputs):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.index = next(Node._counter)  # creation order is a topological order
        leaves = flatten([list(args), kwargs])
        self.input_tensors = [t for t in leaves if isinstance(t, SymbolicTensor)]
        self.output_tensors = flatten(outputs)
        for i, t in enumerate(self.output_tensors):
            if t is not None:
                t._node = t._node or self
                t.name = t.name or (
                    layer.name if len(self.output_tensors) == 1 else f"{layer.name}/{i}"
                )
        layer._inbound_nodes.append(self)

    def __repr__(self) -> str:
        return f"<Node {self.layer.name} #{self.index}>"


def shape_of(inputs):
    """The shape(s) ``build`` receives: a tuple for one input, a list for a list of inputs, a
    dict for a dict of them."""
    if inputs is None:
        return None
    if isinstance(inputs, list | tuple):
        return [shape_of(x) for x in inputs]
    if isinstance(inputs, dict):
        return {key: shape_of(x) for key, x in inputs.items()}
    return tuple(inputs.shape) if hasattr(inputs, "shape") else np.shape(inputs)


# -- structures ---------------------------------------------------------------------------------


def is_shape(value) -> bool:
    if hasattr(value, "as_list"):  # a TensorShape
        return True
    return isinstance(value, tuple | list) and all(
        d is None or (isinstance(d, int | np.integer) and not isinstance(d, bool)) for d in value
    )


def flatten_shapes(shapes) -> list:
    """The shapes in a nested list of shapes, in order."""
    if is_shape(shapes):
        return [tuple(shapes)]
    return [s for item in shapes for s in flatten_shapes(item)]


def specs_from_shapes(shapes, dtype: str):
    """SymbolicTensors mirroring ``shapes``: a shape is a tuple (or TensorShape) of ints and
    None; containers (lists, tuples of shapes) become lists, dicts stay dicts."""
    if shapes is None:
        return None
    if is_shape(shapes):
        return SymbolicTensor(tuple(None if d is None else int(d) for d in shapes), dtype)
    if isinstance(shapes, dict):
        return {key: specs_from_shapes(s, dtype) for key, s in shapes.items()}
    return [specs_from_shapes(s, dtype) for s in shapes]


def shapes_of_specs(specs):
    """The shapes of (nested) SymbolicTensors, nested alike."""
    return map_structure(lambda t: None if t is None else t.shape, specs)


def placeholders(shapes, dtype: str):
    """SymbolicTensors for ``shapes`` as ``build`` receives them (a tuple or a list of them)."""
    if is_shape(shapes):
        return SymbolicTensor(tuple(shapes), dtype)
    return [placeholders(s, dtype) for s in shapes]


# -- calling a layer symbolically ---------------------------------------------------------------


def probe(layer, inputs, args: tuple, kwargs: dict):
    """Symbolic outputs found by running ``layer`` twice on zeros, with the unknown sizes set to
    2 and then 3: output sizes that differ between the runs are unknown."""
    runs = []
    for size in (2, 3):

        def concrete(leaf, size=size):
            if not isinstance(leaf, SymbolicTensor):
                return leaf
            shape = tuple(size if d is None else d for d in leaf.shape)
            return mg.zeros(shape, dtype=leaf.dtype)

        runs.append(
            layer(
                map_structure(concrete, inputs),
                *map_structure(concrete, args),
                **map_structure(concrete, kwargs),
            )
        )
    first, second = (flatten(run) for run in runs)
    if len(first) != len(second):
        raise ValueError(
            f"Layer {layer.name!r} returned {len(first)} and then {len(second)} outputs for "
            "inputs that differ only in their unknown sizes; define compute_output_shape"
        )
    specs = []
    for a, b in zip(first, second, strict=True):
        if a is None:
            specs.append(None)
            continue
        a, b = np.asarray(a), np.asarray(b)
        if a.ndim != b.ndim:
            raise ValueError(
                f"Layer {layer.name!r} returned outputs of different ranks {a.shape} and "
                f"{b.shape} for inputs that differ only in their unknown sizes"
            )
        shape = tuple(m if m == n else None for m, n in zip(a.shape, b.shape, strict=True))
        specs.append(SymbolicTensor(shape, a.dtype.name))
    return pack_sequence_as(runs[0], specs)


def symbolic_call(layer, inputs, args: tuple, kwargs: dict):
    """``layer(inputs, *args, **kwargs)`` with SymbolicTensors among the arguments: build the
    layer, infer the outputs and record a Node."""
    call_context.building.append(layer)
    try:
        if not layer.built:
            layer._maybe_build(inputs)
        outputs = layer._symbolic_outputs(inputs, args, kwargs)
    finally:
        call_context.building.pop()
    Node(layer, (inputs, *args), dict(kwargs), outputs)
    return outputs
