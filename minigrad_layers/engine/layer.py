"""Layer: the base class of every layer, cell and model (Keras' ``Layer`` lifecycle).

* ``__init__`` validates the configuration (unknown keyword arguments raise ``TypeError``);
* ``build(input_shape)`` creates the weights with :meth:`Layer.add_weight`; it runs once, on the
  first call, with the input's shape (a tuple, batch first; a list of tuples for a list of inputs);
* ``call(inputs, ...)`` computes with minigrad ops, so a GradientTape differentiates it.

Calling a layer (``layer(x)``) converts ``x`` to Tensors, casts float inputs to the layer's dtype,
checks them against ``layer.input_spec`` (``input_spec.py``; layers set it in ``build``),
builds the layer if needed, passes ``training`` and ``mask`` to ``call`` when its signature takes
them, and attaches the output mask (``compute_mask``) to the output Tensors (``masks.py``), so the
next layer receives it (Keras' eager masking). Called on a symbolic tensor (``mgl.Input``), a
layer records a node of a functional graph instead (see ``functional.py``).

Weights are ``mg.Variable``s named by the path of the layers being built around them:
``"dense/kernel"``, or ``"lstm/lstm_cell/kernel"`` for a cell built inside its RNN's ``build``.
Sub-layers assigned as attributes (also inside lists, tuples and dicts) are tracked: their
weights follow the layer's own, trainable ones first, as in Keras.

>>> import numpy as np, minigrad as mg, minigrad_layers as mgl
>>> class Scale(mgl.Layer):
...     def __init__(self, **kwargs):
...         self.init_value = 2.0             # attributes may come before super().__init__()
...         super().__init__(**kwargs)
...     def build(self, input_shape):
...         self.w = self.add_weight("w", shape=(input_shape[-1],), initializer="ones")
...         self.built = True
...     def call(self, inputs):
...         return inputs * self.w * self.init_value
>>> mgl.clear_session()
>>> layer = Scale()
>>> layer(np.ones((2, 3))).numpy()
array([[2., 2., 2.],
       [2., 2., 2.]], dtype=float32)
>>> [(w.name, w.shape) for w in layer.weights]
[('scale/w', (3,))]
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

import minigrad as mg
from minigrad.dtypes import as_dtype
from minigrad.nest import flatten
from minigrad_layers import initializers
from minigrad_layers.engine import call_context, functional, naming
from minigrad_layers.engine.functional import shape_of
from minigrad_layers.engine.input_spec import assert_input_compatibility
from minigrad_layers.engine.layer_losses import LayerLosses
from minigrad_layers.engine.masks import get_keras_mask, set_keras_mask

__all__ = ["Layer"]


_training: list = []
"""The ``training`` values of the calls in progress: an inner call without an explicit
``training`` takes the innermost one (Keras' call context)."""

_CALL_SPECS: dict[type, tuple[bool, bool]] = {}
_SEQUENCE = (list, tuple)  # isinstance with a tuple of types: faster than `list | tuple`


def _call_spec(cls: type) -> tuple[bool, bool]:
    """Whether ``cls.call`` accepts ``training`` and ``mask`` (``**kwargs`` accepts both).
    Inspected once per class: layers are called in the RNN's time loop."""
    spec = _CALL_SPECS.get(cls)
    if spec is None:
        params = inspect.signature(cls.call).parameters
        var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        spec = _CALL_SPECS[cls] = ("training" in params or var_kw, "mask" in params or var_kw)
    return spec


def _missing_init_error(layer, action: str) -> RuntimeError:
    name = type(layer).__name__
    return RuntimeError(
        f"{name}: {action} needs Layer.__init__ to have run, but it has not: call "
        f"super().__init__(**kwargs) in {name}.__init__ (plain attributes may be set before it; "
        "weights and sub-layers after it)"
    )


def _contains_layer(value) -> bool:
    if isinstance(value, Layer):
        return True
    if isinstance(value, _SEQUENCE):
        return any(_contains_layer(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_layer(v) for v in value.values())
    return False


def _layers_in(value, found: list, seen: set) -> None:
    """Append the Layers held by ``value`` (a Layer or nested containers) to ``found``, once."""
    if isinstance(value, Layer):
        if id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    elif isinstance(value, _SEQUENCE):
        for v in value:
            _layers_in(v, found, seen)
    elif isinstance(value, dict):
        for v in value.values():
            _layers_in(v, found, seen)


def _unique(items) -> list:
    seen = set()
    return [x for x in items if not (id(x) in seen or seen.add(id(x)))]


def _is_plain_data(value) -> bool:
    """True for (nested) lists/tuples of Python or numpy scalars: array data, not a list of
    inputs."""
    return all(
        _is_plain_data(v) if isinstance(v, _SEQUENCE) else isinstance(v, int | float | np.generic)
        for v in value
    )


def _as_tensors(inputs, dtype):
    """``inputs`` with arrays and array-like data as Tensors; float ones cast to ``dtype`` (when
    not None), keeping their mask. Lists, tuples and dicts of inputs keep their structure."""
    if isinstance(inputs, mg.Tensor):
        if dtype is None or inputs.dtype.kind != "f" or inputs.dtype == dtype:
            return inputs
        cast = mg.cast(inputs, dtype)
        set_keras_mask(cast, get_keras_mask(inputs))
        return cast
    if inputs is None:
        return None
    if isinstance(inputs, _SEQUENCE) and not _is_plain_data(inputs):
        converted = [_as_tensors(x, dtype) for x in inputs]
        return converted if isinstance(inputs, list) else tuple(converted)
    if isinstance(inputs, dict):
        return {key: _as_tensors(x, dtype) for key, x in inputs.items()}
    return _as_tensors(mg.tensor(inputs), dtype)


def _input_mask(inputs):
    """The masks attached to ``inputs``: one, a list (for a list of inputs), or None."""
    if isinstance(inputs, mg.Tensor):
        return get_keras_mask(inputs)
    if isinstance(inputs, _SEQUENCE):
        masks = [get_keras_mask(x) for x in inputs]
        if any(m is not None for m in masks):
            return masks
    return None


def checked_mask(mask, layer_name: str):
    """A mask given to layer ``layer_name`` as a bool Tensor: bools as they are, numbers that are
    all exactly 0 or 1 converted (True = keep); a list (one mask per input) entry by entry. Any
    other number is a ValueError naming it, any other dtype a TypeError naming it."""
    if mask is None:
        return None
    if isinstance(mask, _SEQUENCE) and not _is_plain_data(mask):
        return [checked_mask(m, layer_name) for m in mask]
    array = np.asarray(mask.numpy() if isinstance(mask, mg.Tensor) else mask)
    if array.dtype == bool:
        return mask if isinstance(mask, mg.Tensor) else mg.tensor(array)
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"Layer {layer_name!r}: a mask must be bool (or numbers 0/1), received a mask of "
            f"dtype {array.dtype}"
        )
    bad = (array != 0) & (array != 1)
    if bad.any():
        raise ValueError(
            f"Layer {layer_name!r}: a mask must be bool, or numbers that are all 0 or 1; "
            f"received a mask of dtype {array.dtype} holding the value {str(array[bad].flat[0])}"
        )
    return mg.tensor(array.astype(bool))


def _attach_mask(outputs, mask) -> None:
    """Attach ``mask`` to the output Tensors, unless ``call`` already set all of them."""
    if mask is None:
        return
    flat_outputs = flatten(outputs)
    if all(get_keras_mask(t) is not None for t in flat_outputs):
        return
    flat_masks = flatten(mask) if isinstance(mask, list | tuple | dict) else [mask]
    for tensor, m in zip(flat_outputs, flat_masks, strict=False):
        if isinstance(tensor, mg.Tensor) and m is not None:
            set_keras_mask(tensor, m)


def _scoped_build(build):
    """Wrap a subclass's ``build`` so that every call (from ``__call__``, or a parent's ``build``
    calling ``self.cell.build(shape)``) names the weights it creates after this layer, and marks
    the layer built."""

    @functools.wraps(build)
    def scoped_build(self, *args, **kwargs):
        call_context.building.append(self)
        try:
            result = build(self, *args, **kwargs)
        finally:
            call_context.building.pop()
        self.built = True
        shape = args[0] if args else kwargs.get("input_shape")
        if shape is not None:
            self.__dict__["_build_input_shape"] = shape  # for get_build_config
        return result

    scoped_build._scoped = True
    return scoped_build


class Layer(LayerLosses):
    """Base class of layers: subclass it, override ``build(input_shape)`` and ``call(inputs)``.

    Args (all optional): ``name`` (default: the class name in snake case made unique, ``dense``,
    ``dense_1``...), ``dtype`` (a float dtype name; default ``mg.floatx()`` at construction),
    ``trainable``, and for a model's first layer ``input_shape`` (without the batch dimension),
    ``batch_input_shape`` (with it), ``batch_size`` or ``input_dim`` (Keras 2's shorthand for
    ``input_shape=(input_dim,)``).

    Attributes: ``name``, ``dtype`` (a string), ``built``, ``trainable``, ``supports_masking``
    (when True and ``compute_mask`` is not overridden, the input mask passes through).
    """

    built = False
    supports_masking = False
    input_spec = None  # an InputSpec (or a list, one per input) checked before every call
    _autocast = True  # cast float inputs to self.dtype (Keras autocast)
    _names_weights = True  # this layer's name goes into the paths of weights built inside it

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_scoped", False):
            cls.build = _scoped_build(build)

    def __init__(
        self,
        name: str | None = None,
        dtype=None,
        trainable: bool = True,
        input_shape=None,
        batch_input_shape=None,
        *,
        batch_size: int | None = None,
        input_dim: int | None = None,
        activity_regularizer=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unknown keyword argument(s) {sorted(kwargs)}; the "
                "Layer arguments are name, dtype, trainable, input_shape, batch_input_shape, "
                "batch_size, input_dim, activity_regularizer"
            )
        if name is None:
            name = naming.unique_name(naming.to_snake_case(type(self).__name__))
        elif not isinstance(name, str) or not name or "/" in name:
            raise ValueError(
                f"A layer name must be a non-empty string without '/', received {name!r}"
            )
        if batch_input_shape is not None:
            batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            batch_input_shape = (batch_size, *tuple(input_shape))
        elif input_dim is not None:
            batch_input_shape = (batch_size, input_dim)
        # Bookkeeping goes straight into __dict__: it is not a sub-layer to track.
        self.__dict__.update(
            name=name,
            dtype=mg.floatx() if dtype is None else as_dtype(dtype).name,
            _trainable=bool(trainable),
            _trainable_weights=[],
            _non_trainable_weights=[],
            _batch_input_shape=batch_input_shape,
            _inbound_nodes=[],
            _init_done=True,
        )
        self.__dict__.setdefault("_tracked", {})  # may exist: attributes set before __init__
        self._init_losses(activity_regularizer)

    # -- attribute tracking -------------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, _TRACKABLE):
            tracked = self.__dict__.get("_tracked")
            if "_init_done" not in self.__dict__:
                if _contains_layer(value):
                    raise _missing_init_error(self, f"assigning the sub-layer {name!r}")
                tracked = self.__dict__.setdefault("_tracked", {})
            tracked.pop(name, None)  # a re-assigned attribute moves to the end, as in Keras
            tracked[name] = value
        else:
            tracked = self.__dict__.get("_tracked")
            if tracked and name in tracked:
                del tracked[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__.get("_tracked", {}).pop(name, None)
        object.__delattr__(self, name)

    def _sublayers(self) -> list[Layer]:
        """The directly tracked sub-layers, in tracking order, each once."""
        found: list[Layer] = []
        seen = {id(self)}
        for value in self.__dict__.get("_tracked", {}).values():
            _layers_in(value, found, seen)
        return found

    def _flatten_layers(self) -> list[Layer]:
        """This layer and all its sub-layers, depth first, each once."""
        order, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) not in seen:
                seen.add(id(layer))
                order.append(layer)
                stack.extend(reversed(layer._sublayers()))
        return order

    # -- weights ------------------------------------------------------------------------------
    @property
    def trainable(self) -> bool:
        return self.__dict__.get("_trainable", True)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze or unfreeze this layer and its sub-layers; frozen weights' Variables get
        ``trainable = False`` so tapes stop watching them."""
        value = bool(value)
        for layer in self._flatten_layers():
            layer.__dict__["_trainable"] = value
            for weight in layer.__dict__.get("_trainable_weights", ()):
                weight.trainable = value

    @property
    def trainable_weights(self) -> list[mg.Variable]:
        """Own trainable weights, then the sub-layers' (none when ``trainable`` is False)."""
        if not self.trainable:
            return []
        weights = list(self.__dict__.get("_trainable_weights", ()))
        for layer in self._sublayers():
            weights.extend(layer.trainable_weights)
        return _unique(weights)

    @property
    def non_trainable_weights(self) -> list[mg.Variable]:
        """Own non-trainable weights, then the sub-layers'; everything when frozen."""
        own_trainable = self.__dict__.get("_trainable_weights", [])
        weights = list(self.__dict__.get("_non_trainable_weights", ()))
        if not self.trainable:
            weights = own_trainable + weights
        for layer in self._sublayers():
            weights.extend(layer.weights if not self.trainable else layer.non_trainable_weights)
        return _unique(weights)

    @property
    def weights(self) -> list[mg.Variable]:
        """``trainable_weights + non_trainable_weights``: the order of ``get_weights``."""
        return _unique(self.trainable_weights + self.non_trainable_weights)

    @property
    def variables(self) -> list[mg.Variable]:
        """Same as :attr:`weights`."""
        return self.weights

    def add_weight(
        self,
        name: str | None = None,
        shape=(),
        initializer="glorot_uniform",
        trainable: bool = True,
        dtype=None,
        regularizer=None,
        constraint=None,
    ) -> mg.Variable:
        """Create a weight: an ``mg.Variable`` initialised by ``initializer`` (a Keras name, an
        initializer or a callable ``f(shape, dtype)``), tracked by this layer, with an optional
        ``regularizer`` and ``constraint`` (``layer_losses.py``).

        Its ``name`` is the path of the layers being built around it, this layer's name and
        ``name`` (``"lstm/lstm_cell/kernel"``); a repeated name gets a suffix (``kernel_1``).
        """
        if "_init_done" not in self.__dict__:
            raise _missing_init_error(self, f"creating the weight {name!r}")
        shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
        if any(d is None or int(d) < 0 for d in shape):
            raise ValueError(
                f"Layer {self.name!r}: the weight {name!r} needs a fully known shape, received "
                f"{shape}; is the input's last dimension None?"
            )
        dtype = self.dtype if dtype is None else as_dtype(dtype).name
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        value = initializers.get(initializer)(tuple(int(d) for d in shape), dtype=dtype)
        scope = [
            layer.name
            for layer in _unique(call_context.building)
            if layer is not self and layer._names_weights
        ]
        path = "/".join([*scope, self.name, name or "variable"])
        taken = {w.name for w in self._trainable_weights + self._non_trainable_weights}
        unique, k = path, 0
        while unique in taken:
            k += 1
            unique = f"{path}_{k}"
        variable = mg.Variable(
            value, name=unique, trainable=trainable and self.trainable, dtype=dtype
        )
        (self._trainable_weights if trainable else self._non_trainable_weights).append(variable)
        self._regularize(variable, regularizer, constraint)
        return variable

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights' values, in :attr:`weights` order."""
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Assign arrays to the weights, in :attr:`weights` order (e.g. from ``get_weights`` of a
        Keras layer). Checks the count and every shape before assigning any."""
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"Layer {self.name!r} has {len(params)} weights {[w.name for w in params]}, but "
                f"set_weights received a list of {len(weights)} arrays"
            )
        arrays = [np.asarray(w) for w in weights]
        for param, array in zip(params, arrays, strict=True):
            if array.shape != param.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight {param.name!r} has shape {param.shape}, but "
                    f"set_weights received an array of shape {array.shape} for it"
                )
        for param, array in zip(params, arrays, strict=True):
            param.assign(array)

    def count_params(self) -> int:
        """The number of scalars in the weights (the layer must be built)."""
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} is not built yet, so it has no weights to count: call it "
                "on data (or build it) first"
            )
        return int(sum(w.size for w in self.weights))

    # -- lifecycle ----------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (override it; the base creates none)."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The computation (override it). The base returns ``inputs`` unchanged."""
        return inputs

    def _maybe_build(self, inputs) -> None:
        if not self.built:
            self.__dict__["_build_input_shape"] = shape_of(inputs)
            self.build(shape_of(inputs))
            self.built = True

    def __call__(self, inputs, *args, **kwargs):
        """Build on the first call, then ``call(inputs, *args, **kwargs)``; see the module doc."""
        if "_init_done" not in self.__dict__:
            raise _missing_init_error(self, "calling the layer")
        if _has_symbolic(inputs) or ((args or kwargs) and _has_symbolic((args, kwargs))):
            assert_input_compatibility(self.input_spec, inputs, self.name)
            return functional.symbolic_call(self, inputs, args, kwargs)
        inputs = _as_tensors(inputs, self.dtype if self._autocast else None)
        self._check_input(inputs)
        accepts_training, accepts_mask = _call_spec(type(self))
        training = kwargs.pop("training", None)
        if training is None and _training:
            training = _training[-1]
        if training is not None and accepts_training:
            kwargs["training"] = training
        if "mask" in kwargs:
            mask = checked_mask(kwargs.pop("mask"), self.name)
        else:
            mask = _input_mask(inputs)
        if mask is not None and accepts_mask:
            kwargs["mask"] = mask
        call_context.building.append(self)
        if training is not None:
            _training.append(training)
        self._start_call_losses()
        try:
            if not self.built:
                self._maybe_build(inputs)
            outputs = self.call(inputs, *args, **kwargs)
            self._add_activity_loss(outputs)
        finally:
            call_context.building.pop()
            if training is not None:
                _training.pop()
        if self.supports_masking or type(self).compute_mask is not Layer.compute_mask:
            _attach_mask(outputs, self.compute_mask(inputs, mask))
        return outputs

    def _check_input(self, inputs) -> None:
        """``assert_input_compatibility`` against ``input_spec``. The check depends only on the
        spec and the input's shape and dtype, so a Tensor of the shape and dtype last accepted
        under the same spec passes without it (layers called step after step, as in sampling,
        see the same input every time)."""
        spec = self.input_spec
        if not isinstance(inputs, mg.Tensor):
            assert_input_compatibility(spec, inputs, self.name)
            return
        seen = (spec, inputs.shape, inputs.dtype)
        accepted = self.__dict__.get("_accepted_input")
        if accepted is not None and accepted[0] is spec and accepted[1:] == seen[1:]:
            return
        assert_input_compatibility(spec, inputs, self.name)
        self.__dict__["_accepted_input"] = seen

    def compute_mask(self, inputs, mask=None):
        """The output mask: ``mask`` itself when ``supports_masking``, else None (Keras 2)."""
        return mask if self.supports_masking else None

    def _symbolic_outputs(self, inputs, args: tuple, kwargs: dict):
        """The SymbolicTensors a call on symbolic ``inputs`` returns: from
        ``compute_output_shape`` when the class defines it, else by probing ``call``."""
        if type(self).compute_output_shape is Layer.compute_output_shape:
            return functional.probe(self, inputs, args, kwargs)
        shapes = self.compute_output_shape(shape_of(inputs))
        return functional.specs_from_shapes(shapes, self.dtype)

    def compute_output_shape(self, input_shape):
        """The output shape(s) for ``input_shape`` (None for unknown sizes). This base version
        runs ``call`` on zeros; layers that know their shapes override it."""
        placeholders = functional.placeholders(input_shape, self.dtype)
        return functional.shapes_of_specs(functional.probe(self, placeholders, (), {}))

    # -- where the layer was called in a functional graph ------------------------------------
    @property
    def input(self):
        """The symbolic input(s) of the layer's one call on symbolic tensors (Keras's
        ``layer.input``; a layer called several times has :meth:`get_input_at`)."""
        return self._only_node("input").args[0]

    @property
    def output(self):
        """The symbolic output(s) of the layer's one call on symbolic tensors."""
        return self._only_node("output").outputs

    @property
    def input_shape(self):
        """The shape(s) of :attr:`input` (None for unknown sizes)."""
        return functional.shapes_of_specs(self.input)

    @property
    def output_shape(self):
        """The shape(s) of :attr:`output` (None for unknown sizes)."""
        return functional.shapes_of_specs(self.output)

    def get_input_at(self, node_index: int):
        """The symbolic input(s) of call number ``node_index`` on symbolic tensors."""
        return self._node_at(node_index, "input").args[0]

    def get_output_at(self, node_index: int):
        """The symbolic output(s) of call number ``node_index`` on symbolic tensors."""
        return self._node_at(node_index, "output").outputs

    def _only_node(self, what: str):
        nodes = self._inbound_nodes
        if not nodes:
            raise AttributeError(
                f"Layer {self.name!r} has never been called and thus has no defined {what}."
            )
        if len(nodes) > 1:
            raise AttributeError(
                f"Layer {self.name!r} has multiple inbound nodes ({len(nodes)} calls), hence "
                f'the notion of "layer {what}" is ill-defined. Use `get_{what}_at(node_index)` '
                "instead."
            )
        return nodes[0]

    def _node_at(self, node_index: int, what: str):
        nodes = self._inbound_nodes
        if not isinstance(node_index, int) or not 0 <= node_index < len(nodes):
            raise ValueError(
                f"Asked to get the {what} at node {node_index!r}, but layer {self.name!r} has "
                f"only {len(nodes)} inbound node(s)"
            )
        return nodes[node_index]

    # -- config -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments; ``type(layer).from_config(config)`` makes a new layer."""
        if type(self).get_config is Layer.get_config:
            own = set(inspect.signature(Layer.__init__).parameters)
            extra = [
                p.name
                for p in inspect.signature(type(self).__init__).parameters.values()
                if p.name not in own and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
            if extra:
                raise NotImplementedError(
                    f"{type(self).__name__} has constructor arguments {extra}, so it must "
                    "override get_config() to return them (merged with super().get_config())"
                )
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = self.activity_regularizer
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config: dict):
        """A new layer from :meth:`get_config`'s output."""
        return cls(**config)

    def get_build_config(self) -> dict | None:
        """``{"input_shape": shape}``: what ``build`` received (None before it ran)."""
        shape = self.__dict__.get("_build_input_shape")
        return None if shape is None or not self.built else {"input_shape": shape}

    def build_from_config(self, config: dict) -> None:
        """Build from :meth:`get_build_config`'s output (JSON lists back to shape tuples)."""
        self.build(_as_shapes(config["input_shape"]))
        self.built = True

    def __repr__(self) -> str:
        name = self.__dict__.get("name", "?")
        return f"<{type(self).__name__} name={name!r} built={self.built}>"


_TRACKABLE = (Layer, list, tuple, dict)  # values whose sub-layers __setattr__ tracks


def _as_shapes(shapes):
    """JSON's lists back to tuples: a shape (ints and None) or a list of shapes."""
    if isinstance(shapes, list | tuple) and all(d is None or isinstance(d, int) for d in shapes):
        return tuple(shapes)
    return [_as_shapes(s) for s in shapes]


def _has_symbolic(structure) -> bool:
    if isinstance(structure, functional.SymbolicTensor):
        return True
    if isinstance(structure, _SEQUENCE):
        return any(_has_symbolic(x) for x in structure)
    if isinstance(structure, dict):
        return any(_has_symbolic(x) for x in structure.values())
    return False
