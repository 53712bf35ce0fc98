"""Lambda: a function of the inputs, used as a layer (in a Sequential or a functional model).

Its config stores a function by where it can be imported from, ``{"module": ..., "name": ...}``,
and ``from_config`` imports it again. Keras also stores lambda expressions, as Python bytecode;
this project never does (bytecode is unsafe to load and breaks across Python versions): a
Lambda whose function is a lambda expression or a nested function has no config, and asking
for one raises a ValueError that says what to write instead.

>>> import numpy as np, minigrad as mg, minigrad_layers as mgl
>>> square = mgl.Lambda(lambda x: x**2)
>>> square(np.array([[1.0, -2.0]])).numpy()
array([[1., 4.]], dtype=float32)
>>> mgl.Lambda(mg.tanh).get_config()["function"]
{'module': 'minigrad.ops', 'name': 'tanh'}
"""

from __future__ import annotations

import importlib
import inspect

import minigrad as mg
from minigrad.nest import flatten, map_structure
from minigrad_layers.engine.functional import flatten_shapes, is_shape
from minigrad_layers.engine.layer import Layer, checked_mask

__all__ = ["Lambda"]


class Lambda(Layer):
    """``Lambda(function, output_shape=None, mask=None, arguments=None)``: the layer's output is
    ``function(inputs, **arguments)``, computed with minigrad ops (so a tape differentiates it).

    * ``function`` also receives ``mask=`` and ``training=`` when its signature names them.
    * ``output_shape``: the output shape without the batch axis (a tuple, or a list of tuples for
      several outputs), or a function of the full input shape giving the full output shape;
      ``None`` (the default) finds it by running ``function`` on zeros.
    * ``mask``: ``None`` (the output has no mask), a function ``mask(inputs, input_mask)``
      giving the output mask, or a fixed bool mask.
    * ``arguments``: a dict of keyword arguments for ``function``.

    >>> import numpy as np, minigrad as mg, minigrad_layers as mgl
    >>> scale = mgl.Lambda(mg.multiply, arguments={"b": 3.0})
    >>> scale(np.array([[1.0, 2.0]])).numpy()
    array([[3., 6.]], dtype=float32)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"Lambda layer {self.name!r}: `function` must be callable, received {function!r} "
                f"of type {type(function).__name__}"
            )
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(
                f"Lambda layer {self.name!r}: `arguments` must be a dict of keyword arguments "
                f"for the function, received {type(arguments).__name__}"
            )
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = self._checked_output_shape(output_shape)
        self.mask = mask if mask is None or callable(mask) else checked_mask(mask, self.name)
        self.supports_masking = mask is not None
        parameters = _parameters(function)
        self._fn_expects_mask_arg = "mask" in parameters
        self._fn_expects_training_arg = "training" in parameters

    def _checked_output_shape(self, output_shape):
        if output_shape is None or callable(output_shape):
            return output_shape
        if is_shape(output_shape):
            return tuple(output_shape)
        if (
            isinstance(output_shape, list | tuple)
            and output_shape
            and all(is_shape(s) for s in output_shape)
        ):
            return [tuple(s) for s in output_shape]
        raise TypeError(
            f"Lambda layer {self.name!r}: `output_shape` must be a shape without the batch axis "
            "(a tuple of ints and None), a list of such shapes, or a function of the input "
            f"shape; received {output_shape!r}"
        )

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        outputs = self.function(inputs, **kwargs)
        for output in flatten(outputs):
            if not isinstance(output, mg.Tensor):
                raise TypeError(
                    f"Lambda layer {self.name!r}: its function must return Tensors (compute "
                    f"with minigrad ops such as mg.tanh, not numpy), received "
                    f"{type(output).__name__}"
                )
        # An input returned as it is becomes a new Tensor, to carry this layer's mask, not its own.
        input_ids = {id(x) for x in flatten(inputs)}
        return map_structure(lambda t: mg.identity(t) if id(t) in input_ids else t, outputs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)  # runs the function on zeros
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = flatten_shapes(input_shape)[0][0]
        if isinstance(self._output_shape, list):
            return [(batch, *shape) for shape in self._output_shape]
        return (batch, *self._output_shape)

    # -- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """``function`` (and a function ``output_shape`` or ``mask``) as ``{"module", "name"}``;
        a ValueError when one cannot be imported by name (a lambda expression)."""
        config = {**super().get_config(), "function": self._function_config(self.function)}
        if self._output_shape is not None:
            shape = self._output_shape
            config["output_shape"] = self._function_config(shape) if callable(shape) else shape
        if self.mask is not None:
            mask = self.mask
            config["mask"] = (
                self._function_config(mask) if callable(mask) else mask.numpy().tolist()
            )
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(cls, config: dict):
        """A new Lambda from :meth:`get_config`: the functions stored by name are imported."""
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            if isinstance(config.get(key), dict):
                config[key] = _import_function(config[key], key)
        return cls(**config)

    def _function_config(self, function) -> dict:
        module = getattr(function, "__module__", None)
        name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
        if module and name and _lookup(module, name) is function:
            return {"module": module, "name": name}
        raise ValueError(
            f"Lambda layer {self.name!r} cannot be stored in a config: its function {function!r} "
            "cannot be imported by name (a lambda expression or a function defined inside "
            "another cannot, and Python bytecode is never saved). Use a named function "
            "defined with `def` at the top level of a module, or write a custom Layer "
            "with its own get_config"
        )


def _parameters(function) -> set:
    """The names ``function`` accepts (none known for callables without a signature)."""
    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return set()


def _lookup(module: str, name: str):
    """``module.name`` (``name`` may be dotted: ``Class.method``), or None when absent."""
    if "<" in name:  # "<lambda>", "outer.<locals>.inner"
        return None
    try:
        found = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found


def _import_function(entry: dict, key: str):
    if set(entry) != {"module", "name"}:
        raise ValueError(
            f"Lambda config `{key}` must be {{'module': ..., 'name': ...}}, received {entry!r}"
        )
    function = _lookup(entry["module"], entry["name"])
    if not callable(function):
        raise ValueError(
            f"Lambda config `{key}`: cannot import a function {entry['name']!r} from module "
            f"{entry['module']!r}"
        )
    return function
