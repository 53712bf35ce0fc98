"""Model (functional or subclassed) and Sequential.

``Model(inputs, outputs)`` takes the graph recorded by calling layers on ``mgl.Input``s; calling
the model replays its nodes in creation order (a topological order) on concrete Tensors, so masks
and ``training`` flow through the layers exactly as in eager calls. ``Sequential`` is a Model
whose graph is a chain; without an input shape it builds that graph from the first data it sees.
The training methods (``compile``, ``fit``, ``evaluate``, ``predict``) come from ``Trainer``.

>>> import numpy as np, minigrad_layers as mgl
>>> mgl.clear_session()
>>> x = mgl.Input((4,))
>>> h = mgl.Dense(8)(x)
>>> model = mgl.Model(x, mgl.Dense(2, activation="softmax")(h))
>>> model(np.ones((3, 4))).shape
(3, 2)
>>> [layer.name for layer in model.layers]
['input_1', 'dense', 'dense_1']
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.nest import flatten, map_structure, pack_sequence_as
from minigrad_layers.engine.functional import (
    SymbolicTensor,
    flatten_shapes,
    is_shape,
)
from minigrad_layers.engine.input_layer import Input, InputLayer
from minigrad_layers.engine.layer import Layer
from minigrad_layers.engine.masks import get_keras_mask, set_keras_mask
from minigrad_layers.engine.model_config import sequential_config, sequential_from_config
from minigrad_layers.engine.model_saving import ModelSaving
from minigrad_layers.saving import weights_file
from minigrad_layers.training.trainer import Trainer

__all__ = ["Model", "Sequential"]


class Model(ModelSaving, Layer, Trainer):
    """A network of layers with the training methods.

    * Functional: ``Model(inputs, outputs, name=None)``, where ``inputs`` are ``mgl.Input``
      tensors (one, or a nested list) and ``outputs`` symbolic tensors computed from them.
    * Subclassed: ``Model()`` in a subclass's ``__init__``, which assigns the sub-layers as
      attributes and defines ``call``.

    Calling a functional model checks each input's rank and known sizes against its ``Input``
    (a ``ValueError`` lists both shapes), casts it to the ``Input``'s dtype and runs the layers.
    """

    _autocast = False  # inputs are cast to each Input's dtype instead

    def __init__(self, inputs=None, outputs=None, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.__dict__["_is_graph_network"] = False
        if inputs is None and outputs is None:
            return
        if inputs is None or outputs is None:
            raise ValueError(
                "A functional Model needs both `inputs` and `outputs` (symbolic tensors from "
                "mgl.Input and the layers called on them); for a subclassed model give neither"
            )
        self._init_graph(inputs, outputs)

    # -- the graph ----------------------------------------------------------------------------
    def _init_graph(self, inputs, outputs) -> None:
        flat_inputs, flat_outputs = flatten(inputs), flatten(outputs)
        for t in flat_inputs:
            if not (isinstance(t, SymbolicTensor) and isinstance(t._node.layer, InputLayer)):
                raise ValueError(
                    f"Model inputs must be tensors returned by mgl.Input(...), received {t!r}"
                )
        for t in flat_outputs:
            if not isinstance(t, SymbolicTensor):
                raise ValueError(
                    f"Model outputs must be symbolic tensors (layers called on mgl.Input), "
                    f"received {type(t).__name__}"
                )
        nodes = _nodes_between(flat_inputs, flat_outputs)
        layers = [t._node.layer for t in flat_inputs] + [node.layer for node in nodes]
        layers = list({id(layer): layer for layer in layers}.values())
        names = [layer.name for layer in layers]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(
                f"All layer names in a model must be unique (weights are named after them); "
                f"repeated: {repeated}"
            )
        self.__dict__.update(
            _is_graph_network=True,
            _inputs=inputs,
            _outputs=outputs,
            _flat_inputs=flat_inputs,
            _flat_outputs=flat_outputs,
            _nodes=nodes,
        )
        self._layers = layers  # tracked: the model's weights are its layers'
        self.built = True

    @property
    def inputs(self) -> list[SymbolicTensor]:
        """The model's symbolic inputs (flat list)."""
        return list(self.__dict__.get("_flat_inputs", ()))

    @property
    def outputs(self) -> list[SymbolicTensor]:
        """The model's symbolic outputs (flat list)."""
        return list(self.__dict__.get("_flat_outputs", ()))

    @property
    def input(self):
        """The model's symbolic input: one tensor, or the list (or structure) it was given."""
        if not self._is_graph_network:
            return super().input
        return self._inputs

    @property
    def output(self):
        """The model's symbolic output: one tensor, or the list (or structure) it was given."""
        if not self._is_graph_network:
            return super().output
        return self._outputs

    @property
    def output_names(self) -> list[str]:
        """The names of the layers producing the outputs, made unique as tf.keras 2 does: a
        layer with several outputs gives ``rnn``, ``rnn_1``, ..."""
        names, counts = [], {}
        for t in self.outputs:
            base = proposal = t._node.layer.name
            while proposal in names:
                counts[base] = counts.get(base, 0) + 1
                proposal = f"{base}_{counts[base]}"
            names.append(proposal)
        return names

    @property
    def layers(self) -> list[Layer]:
        """The layers, inputs first, in graph order (the sub-layers of a subclassed model)."""
        if self._is_graph_network:
            return list(self._layers)
        return self._sublayers()

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in :attr:`layers`."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No layer named {name!r} in model {self.name!r}; its layers are "
            f"{[layer.name for layer in self.layers]}"
        )

    def _check_shape(self, i: int, shape: tuple, spec: SymbolicTensor) -> None:
        """Input ``i`` must have the rank and the known sizes (beyond the batch) of its Input."""
        if len(shape) != len(spec.shape) or any(
            d is not None and n is not None and d != n
            for d, n in zip(spec.shape[1:], shape[1:], strict=True)
        ):
            raise ValueError(
                f"Input {i} of model {self.name!r} has shape {shape} (rank {len(shape)}), but "
                f"the model expects shape {spec.shape} (rank {len(spec.shape)}; None = any size)"
            )

    def _conform(self, i: int, x: mg.Tensor, spec: SymbolicTensor) -> mg.Tensor:
        """``x`` checked against input ``i`` and cast to its dtype, keeping its mask."""
        self._check_shape(i, x.shape, spec)
        if x.dtype != spec.dtype:
            mask, x = get_keras_mask(x), mg.cast(x, spec.dtype)
            set_keras_mask(x, mask)
        return x

    def call(self, inputs, training=None, mask=None):
        """Run the graph on ``inputs`` (one Tensor, or a list matching the model's inputs)."""
        if not self._is_graph_network:
            raise NotImplementedError(
                f"{type(self).__name__} has no graph: build it as Model(inputs, outputs) or "
                "override call() in a subclass"
            )
        tensors = flatten(inputs)
        if len(tensors) != len(self._flat_inputs):
            raise ValueError(
                f"Model {self.name!r} expects {len(self._flat_inputs)} input(s) with shapes "
                f"{[t.shape for t in self._flat_inputs]}, received {len(tensors)}"
            )
        masks = [None] * len(tensors) if mask is None else flatten(mask)
        values = {}
        for i, (spec, x, m) in enumerate(zip(self._flat_inputs, tensors, masks, strict=False)):
            x = self._conform(i, x, spec)
            if m is not None and get_keras_mask(x) is not m:
                x = mg.identity(x)
                set_keras_mask(x, m)
            values[id(spec)] = x

        def value_of(leaf):
            return values[id(leaf)] if isinstance(leaf, SymbolicTensor) else leaf

        for node in self._nodes:
            args = map_structure(value_of, node.args)
            kwargs = map_structure(value_of, node.kwargs)
            outputs = flatten(node.layer(*args, **kwargs))
            if len(outputs) != len(node.output_tensors):
                raise ValueError(
                    f"Layer {node.layer.name!r} returned {len(outputs)} tensor(s) in the model, "
                    f"but {len(node.output_tensors)} when the model was built"
                )
            for spec, value in zip(node.output_tensors, outputs, strict=True):
                if spec is not None:
                    values[id(spec)] = value
        return pack_sequence_as(self._outputs, [values[id(t)] for t in self._flat_outputs])

    def compute_output_shape(self, input_shape):
        """The output shapes recorded when the graph was built (the input shapes are checked)."""
        if not self._is_graph_network:
            return super().compute_output_shape(input_shape)
        shapes = [input_shape] if is_shape(input_shape) else flatten_shapes(input_shape)
        for i, (shape, spec) in enumerate(zip(shapes, self._flat_inputs, strict=False)):
            self._check_shape(i, tuple(shape), spec)
        return map_structure(lambda t: t.shape, self._outputs)

    # -- state, summary, saving ---------------------------------------------------------------
    @property
    def stateful(self) -> bool:
        """True when any layer is stateful."""
        return any(getattr(layer, "stateful", False) for layer in self.layers)

    def reset_states(self) -> None:
        """Reset the states of every stateful layer (``layer.reset_states()``)."""
        for layer in self.layers:
            if getattr(layer, "stateful", False):
                layer.reset_states()

    def summary(self, print_fn=None) -> None:
        """Print each layer's name and class, output shape and parameter count, then the
        totals (trainable and non-trainable), in Keras' table layout."""
        if not self.built:
            raise ValueError(
                f"Model {self.name!r} has not been built yet, so its shapes are unknown: call it "
                "on data, give the first layer an `input_shape`, or call model.build(shape)"
            )
        print_fn = print_fn or print
        widths = (29, 26, 10)
        nodes = set(map(id, self.__dict__.get("_nodes", ())))

        def row(cells) -> str:
            line = ""
            for cell, width in zip(cells, widths, strict=True):
                line = (line + str(cell)).ljust(len(line) + width - 1) + " "
            return line.rstrip()

        lines = [
            f'Model: "{self.name}"',
            "_" * 65,
            row(["Layer (type)", "Output Shape", "Param #"]),
        ]
        lines.append("=" * 65)
        for layer in self.layers if self._is_graph_network else self._sublayers():
            mine = layer._inbound_nodes
            if not isinstance(layer, InputLayer):
                mine = [n for n in mine if id(n) in nodes]
            if not self._is_graph_network or len(mine) != 1:
                shape = "multiple"
            else:
                shape = map_structure(lambda t: t.shape, mine[0].outputs)
            params = layer.count_params() if layer.built else 0
            lines += [row([f"{layer.name} ({type(layer).__name__})", shape, f"{params:,}"]), ""]
        trainable = sum(w.size for w in self.trainable_weights)
        non_trainable = sum(w.size for w in self.non_trainable_weights)
        lines[-1] = "=" * 65
        lines += [
            f"Total params: {trainable + non_trainable:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {non_trainable:,}",
            "_" * 65,
        ]
        print_fn("\n".join(lines))

    def save_weights(self, path) -> None:
        """Save the weights to ``path`` (ending in ``.weights.h5``), keyed by the model's
        structure; see ``saving.weights_file``."""
        weights_file.save_weights(self, path)

    def load_weights(self, path) -> None:
        """Load weights from a ``.weights.h5``, ``.keras`` or old ``.npz`` file into this
        (built) model."""
        weights_file.load_weights(self, path)


def _nodes_between(flat_inputs: list, flat_outputs: list) -> list:
    """The nodes that compute ``flat_outputs`` from ``flat_inputs``, in creation order."""
    input_ids = {id(t) for t in flat_inputs}
    needed, seen, pending = {}, set(), list(flat_outputs)
    while pending:
        t = pending.pop()
        if id(t) in input_ids or id(t) in seen:
            continue
        seen.add(id(t))
        node = t._node
        if isinstance(node.layer, InputLayer):
            raise ValueError(
                f"Graph disconnected: the outputs depend on {t!r}, which is not among the "
                f"model's inputs {[x.name for x in flat_inputs]}"
            )
        needed[node.index] = node
        pending.extend(node.input_tensors)
    return [needed[i] for i in sorted(needed)]


class Sequential(Model):
    """A linear stack of layers: ``Sequential([layer, ...], name=None)`` and ``.add(layer)``.

    Give the first layer ``input_shape=`` (or ``batch_input_shape=``), or start with an
    ``mgl.Input``, to build it at once; otherwise it is built from the first data it is called
    on, with an unknown batch size (a later call whose sizes differ, rank aside, rebuilds it
    with those sizes unknown).

    >>> import numpy as np, minigrad_layers as mgl
    >>> model = mgl.Sequential([mgl.Dense(4, activation="relu"), mgl.Dense(1)])
    >>> model(np.ones((2, 3))).shape, len(model.weights)
    ((2, 1), 4)
    """

    _names_weights = False  # layers built while the chain is assembled are named as top-level

    def __init__(self, layers=None, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._layers = []
        self.__dict__["_from_data"] = False
        for layer in layers or ():
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        """The stacked layers (without the input layer)."""
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def add(self, layer) -> None:
        """Append a layer (or, first, an ``mgl.Input``)."""
        if isinstance(layer, SymbolicTensor) and isinstance(layer._node.layer, InputLayer):
            if self._layers:
                raise ValueError("An Input can only be the first element of a Sequential model")
            self._layers = [layer._node.layer]
            self._build_graph(layer)
            return
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential.add expects a Layer instance, received {type(layer).__name__}"
            )
        self._layers = [*self._layers, layer]
        if self._is_graph_network:
            self._build_graph(self._flat_inputs[0])
        elif len(self._layers) == 1 and layer._batch_input_shape is not None:
            self._build_graph(Input(batch_shape=layer._batch_input_shape, dtype=layer.dtype))

    def _build_graph(self, x: SymbolicTensor) -> None:
        """Call the layers in turn on ``x`` and keep the chain as the model's graph."""
        inputs = x
        for layer in self.layers:
            x = layer(x)
            if not isinstance(x, SymbolicTensor):
                raise ValueError(
                    f"All layers in a Sequential model must have one output tensor, but "
                    f"{layer.name!r} returns {len(flatten(x))}; use the functional API "
                    "(mgl.Model) for layers with several outputs"
                )
        self._init_graph(inputs, x)  # its layers: the InputLayer, then ours in order

    def get_config(self) -> dict:
        """``name``, ``trainable``, ``dtype``, ``layers`` (serialized, the InputLayer first when
        built) and ``build_input_shape``, as Keras 3 writes them."""
        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from minigrad_layers.saving.registry import custom_object_scope

        with custom_object_scope(custom_objects):
            return sequential_from_config(cls, config)

    def get_build_config(self) -> dict | None:
        return {"input_shape": self._flat_inputs[0].shape} if self.built else None

    def build(self, input_shape) -> None:
        """Build the chain for inputs of ``input_shape`` (batch dimension included)."""
        first = self.layers[0].dtype if self.layers else None
        self._build_graph(Input(batch_shape=tuple(input_shape), dtype=first))

    def _maybe_build(self, inputs) -> None:
        if self.built:
            return
        if not self.layers:
            raise ValueError("This Sequential model has no layers: add some before calling it")
        if not hasattr(inputs, "shape") or isinstance(inputs, list | tuple):
            raise ValueError(
                f"A Sequential model takes one input tensor, received {type(inputs).__name__}"
            )
        shape = tuple(inputs.shape)
        if not isinstance(inputs, SymbolicTensor):
            shape = (None, *shape[1:])
            self.__dict__["_from_data"] = True
        self._build_graph(Input(batch_shape=shape, dtype=np.dtype(inputs.dtype).name))

    def call(self, inputs, training=None, mask=None):
        """Run the chain; a model built from data relaxes the sizes that changed since."""
        spec = self._flat_inputs[0]
        if self._from_data and isinstance(inputs, mg.Tensor) and inputs.ndim == spec.ndim:
            relaxed = tuple(
                d if d == n else None for d, n in zip(spec.shape, inputs.shape, strict=True)
            )
            if relaxed[1:] != spec.shape[1:]:
                self._build_graph(Input(batch_shape=(None, *relaxed[1:]), dtype=spec.dtype))
        return super().call(inputs, training=training, mask=mask)
