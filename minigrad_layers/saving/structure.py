"""Where each object's variables live in a weights file: Keras 3's paths (``saving_lib``).

Every saveable object (a layer, a model, an optimizer) owns a list of variables and is reached
from the model by a path of attribute names:

* a model built from a graph (``Sequential``, functional) first lists ``layers``; a list of
  layers names each entry by its class in snake case, numbered when repeated
  (``layers/dense``, ``layers/dense_1``; a functional model inside is ``functional``);
* then every tracked attribute holding a layer or a list of layers, in sorted order with private
  names last (``cell``, ``cells``, ``backward_layer``, ``forward_layer``);
* a compiled model's optimizer is ``optimizer``.

An object reached twice is listed once, at its first path. A layer's own variables are its
weights in creation order, those created trainable first: freezing a layer changes nothing here.

>>> import minigrad_layers as mgl
>>> model = mgl.Sequential([mgl.LSTM(3, input_shape=(5, 2)), mgl.Dense(1)])
>>> [path for path, _, _ in walk(model)]
['', 'layers/lstm', 'layers/lstm/cell', 'layers/dense']
"""

from __future__ import annotations

import re

from minigrad_layers.engine.layer import Layer

__all__ = ["class_path_name", "own_variables", "walk"]


def class_path_name(obj) -> str:
    """Keras 3's snake-case class name: ``LSTMCell`` -> ``lstm_cell``; a functional model is
    ``functional``."""
    name = "Functional" if _is_functional(obj) else type(obj).__name__
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_functional(obj) -> bool:
    from minigrad_layers.engine.model import Model

    return type(obj) is Model and obj._is_graph_network


def own_variables(layer: Layer) -> list:
    """A layer's own variables: creation order, those created trainable first."""
    return list(layer._trainable_weights) + list(layer._non_trainable_weights)


def _children(obj):
    """``(attribute name, value)`` pairs in Keras 3's visiting order."""
    if not isinstance(obj, Layer):
        return
    graph = obj.__dict__.get("_is_graph_network")
    if graph:
        yield "layers", obj.layers  # Keras skips the private list behind it
    tracked = obj.__dict__.get("_tracked", {})
    for name in sorted(tracked, key=lambda n: "~" + n if n.startswith("_") else n):
        if graph and name == "_layers":
            continue
        if isinstance(tracked[name], Layer | list | tuple | dict):
            yield name, tracked[name]
    optimizer = obj.__dict__.get("optimizer")
    if optimizer is not None:
        yield "optimizer", optimizer


def walk(obj, path: str = "", seen: set | None = None, owner=None):
    """Yield ``(path, object, owner)`` for ``obj`` and everything it holds; ``owner`` is the
    layer holding the object (an optimizer's state is ordered by its model's weights)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    yield path, obj, owner
    for name, value in _children(obj):
        child_path = f"{path}/{name}" if path else name
        if isinstance(value, list | tuple | dict):
            yield from _walk_container(value, child_path, seen)
        else:
            yield from walk(value, child_path, seen, owner=obj)


def _walk_container(container, path: str, seen: set):
    used: dict[str, int] = {}
    values = container.values() if isinstance(container, dict) else container
    for value in values:
        if isinstance(value, list | tuple | dict):
            yield from _walk_container(value, f"{path}/{_numbered('container', used)}", seen)
        elif isinstance(value, Layer):
            name = _numbered(class_path_name(value), used)
            yield from walk(value, f"{path}/{name}", seen, owner=None)


def _numbered(name: str, used: dict) -> str:
    """``dense``, then ``dense_1``, ``dense_2``... (Keras 3's ``_get_unique_name``)."""
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name
