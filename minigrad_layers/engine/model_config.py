"""The configs of graph models, in Keras 3's schema: a functional model and a ``Sequential``.

A functional model's config lists its layers, each serialized (``saving.serialization``) with
its ``name`` and ``inbound_nodes``: one entry per call of the layer inside this model, holding
the call's ``args`` and ``kwargs`` with every symbolic tensor written as::

    {"class_name": "__keras_tensor__",
     "config": {"shape": [...], "dtype": "float32", "keras_history": [layer, node, index]}}

``keras_history`` names the layer that made the tensor, which of that layer's calls in this
model (counted from 0) and which of the call's outputs. ``input_layers`` and ``output_layers``
are the histories of the model's inputs and outputs, nested as they were given; there, as Keras
3 writes them, the calls of a functional model inside are counted from 1::

    {"name": "model", "trainable": true, "layers": [...],
     "input_layers": [["input_1", 0, 0], ["input_2", 0, 0]], "output_layers": ["dense", 0, 0]}

Rebuilding creates every layer from its config, then makes the recorded calls: always the first
pending call of the earliest listed layer whose inputs exist, so the layers come back in their
original order (the weights file is keyed by it). A ``Sequential`` config is its ``layers``
(the ``InputLayer`` first when built), rebuilt by ``add``. A ``Sequential`` built from data has
no ``InputLayer`` there, only its ``build_input_shape``: rebuilt from it (Keras 3 does the same),
it still accepts other sizes where the layers allow them, as the original does.
"""

from __future__ import annotations

from minigrad_layers.engine.input_layer import InputLayer
from minigrad_layers.saving.serialization import deserialize_keras_object, serialize_keras_object

__all__ = [
    "functional_config",
    "functional_from_config",
    "sequential_config",
    "sequential_from_config",
]

_TENSOR = "__keras_tensor__"


def _map(fn, structure):
    if isinstance(structure, list | tuple):
        return [_map(fn, x) for x in structure]
    if isinstance(structure, dict):
        return {key: _map(fn, value) for key, value in structure.items()}
    return fn(structure)


def _node_offset(layer) -> int:
    """Keras 3 counts a functional model's calls from 1 in ``input_layers``/``output_layers``."""
    functional = getattr(layer, "_has_functional_config", None)
    return 1 if functional is not None and functional() else 0


# -- writing -----------------------------------------------------------------------------------
def functional_config(model) -> dict:
    """The Keras 3 functional config of ``model`` (see the module docstring)."""
    from minigrad_layers.engine.functional import SymbolicTensor

    own = {id(node) for node in model._nodes}
    kept: dict[int, int] = {}  # id(node) -> its index among the layer's calls in this model
    calls: dict[int, list] = {}
    for layer in model.layers:
        nodes = [n for n in layer._inbound_nodes if id(n) in own or isinstance(layer, InputLayer)][
            : 1 if isinstance(layer, InputLayer) else None
        ]
        calls[id(layer)] = nodes
        for i, node in enumerate(nodes):
            kept[id(node)] = i

    def history(t, offset: bool = False) -> list:
        node = t._node
        index = next(i for i, out in enumerate(node.output_tensors) if out is t)
        call = kept[id(node)] + (_node_offset(node.layer) if offset else 0)
        return [node.layer.name, call, index]

    def end_history(t) -> list:
        return history(t, offset=True)

    def as_config(leaf):
        if not isinstance(leaf, SymbolicTensor):
            return leaf
        shape = list(leaf.shape)
        return {
            "class_name": _TENSOR,
            "config": {"shape": shape, "dtype": leaf.dtype, "keras_history": history(leaf)},
        }

    layers = []
    for layer in model.layers:
        config = serialize_keras_object(layer)
        config["name"] = layer.name
        config["inbound_nodes"] = [
            {
                "args": serialize_keras_object(_map(as_config, list(node.args))),
                "kwargs": serialize_keras_object(_map(as_config, node.kwargs)),
            }
            for node in calls[id(layer)]
            if node.input_tensors
        ]
        layers.append(config)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": _map(end_history, model._inputs),
        "output_layers": _map(end_history, model._outputs),
    }


def sequential_config(model) -> dict:
    config = {"name": model.name, "trainable": model.trainable, "dtype": model.dtype}
    layers = model.layers if model._from_data else model._layers
    config["layers"] = [serialize_keras_object(layer) for layer in layers]
    if model.built:
        config["build_input_shape"] = list(model._flat_inputs[0].shape)
    return config


# -- reading -----------------------------------------------------------------------------------
def _is_history(value) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(i, int) for i in value[1:])
    )


class _Graph:
    """The layers rebuilt so far, and the tensors their calls produced."""

    def __init__(self):
        self.layers: dict = {}

    def has(self, history) -> bool:
        name, node, _ = history
        layer = self.layers.get(name)
        if layer is None:
            return False
        return node < len(layer._inbound_nodes)

    def tensor(self, history, offset: bool = False):
        name, node, index = history
        if name not in self.layers:
            raise ValueError(
                f"Invalid functional model config: a tensor comes from layer {name!r}, which "
                f"is not among its layers {sorted(self.layers)}"
            )
        layer = self.layers[name]
        node -= _node_offset(layer) if offset else 0
        return layer._inbound_nodes[node].output_tensors[index]

    def histories(self, value) -> list:
        if isinstance(value, list | tuple):
            return [h for x in value for h in self.histories(x)]
        if isinstance(value, dict):
            if value.get("class_name") == _TENSOR:
                return [value["config"]["keras_history"]]
            return [h for x in value.values() for h in self.histories(x)]
        return []

    def resolve(self, value):
        """A node's serialized arguments with the tensors (and objects) in place."""
        if isinstance(value, list | tuple):
            return [self.resolve(x) for x in value]
        if isinstance(value, dict):
            if value.get("class_name") == _TENSOR:
                return self.tensor(value["config"]["keras_history"])
            if "class_name" in value and "config" in value:
                return deserialize_keras_object(value)
            return {key: self.resolve(x) for key, x in value.items()}
        return value


def functional_from_config(cls, config: dict):
    """A new model of class ``cls`` from :func:`functional_config`'s output."""
    graph, pending, order = _Graph(), {}, []
    for data in config["layers"]:
        data = {key: value for key, value in data.items() if key != "build_config"}
        name = data.get("name") or data["config"]["name"]
        layer = deserialize_keras_object(data)
        graph.layers[name] = layer
        pending[name] = list(data.get("inbound_nodes", []))
        order.append(name)
    while any(pending.values()):
        for name in order:
            calls = pending[name]
            if calls and all(graph.has(h) for h in graph.histories(calls[0])):
                args = graph.resolve(calls[0].get("args", []))
                kwargs = graph.resolve(calls[0].get("kwargs", {}))
                graph.layers[name](*args, **kwargs)
                calls.pop(0)
                break
        else:
            stuck = {name: len(calls) for name, calls in pending.items() if calls}
            raise ValueError(
                "Invalid functional model config: the calls of these layers (name: count) need "
                f"tensors that no layer makes (a loop, or a layer missing): {stuck}"
            )

    def tensors(structure):
        if _is_history(structure):
            return graph.tensor(structure, offset=True)
        if isinstance(structure, dict):
            return {key: tensors(x) for key, x in structure.items()}
        return [tensors(x) for x in structure]

    model = cls(
        inputs=tensors(config["input_layers"]),
        outputs=tensors(config["output_layers"]),
        name=config.get("name"),
    )
    _set_own_trainable(model, config)
    return model


def _set_own_trainable(model, config: dict) -> None:
    """The model's own flag; its layers have theirs in their configs (setting
    ``model.trainable`` would overwrite them)."""
    model.__dict__["_trainable"] = bool(config.get("trainable", True))


def sequential_from_config(cls, config: dict):
    """A new ``Sequential`` (or subclass) from :func:`sequential_config`'s output."""
    model = cls(name=config.get("name"))
    for data in config["layers"]:
        data = {key: value for key, value in data.items() if key != "build_config"}
        layer = deserialize_keras_object(data)
        model.add(layer.output if isinstance(layer, InputLayer) else layer)
    shape = config.get("build_input_shape")
    if not model.built and shape:
        model.build(tuple(shape))
        model.__dict__["_from_data"] = True
    _set_own_trainable(model, config)
    return model
