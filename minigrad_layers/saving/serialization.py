"""Objects to JSON-ready configs and back, in Keras 3's schema (``serialization_lib``).

An object with ``get_config`` becomes::

    {"module": "keras.layers", "class_name": "Dense", "config": {...},
     "registered_name": None, "build_config": {"input_shape": [None, 3]}}

* ``module``/``class_name``: Keras 3's public name for a built-in (the table in
  :mod:`keras_names`); for any other class its Python module and class name, with
  ``registered_name`` ``"package>Name"`` when registered (:mod:`registry`), else the class name;
* ``config``: ``get_config()`` with every object inside serialized the same way;
* ``build_config`` (a built layer: the input shape its ``build`` received) and
  ``compile_config`` (a compiled model: the arguments of ``compile``).

A function is ``{"module", "class_name": "function", "config": name, "registered_name"}``;
lists, dicts and plain values stay as they are (tuples become lists), numpy arrays become
``{"class_name": "__numpy__", "config": {"value", "dtype"}}``. A Python lambda is never
written or read (that would mean running stored code).

Deserializing looks the class up (the ``custom_objects`` given, the registry, then the
built-ins), rebuilds the objects inside its config, calls ``cls.from_config(config)``, then
builds the object from ``build_config`` and compiles it from ``compile_config``. A class that
cannot be found is a ``ValueError`` that says how to make it known.

>>> import minigrad_layers as mgl
>>> config = serialize_keras_object(mgl.Dense(2, activation="relu", name="d"))
>>> config["module"], config["class_name"], config["config"]["kernel_initializer"]["class_name"]
('keras.layers', 'Dense', 'GlorotUniform')
>>> layer = deserialize_keras_object(config)
>>> type(layer).__name__, layer.name, layer.units
('Dense', 'd', 2)
"""

from __future__ import annotations

import types

import numpy as np

from minigrad_layers.saving import keras_names
from minigrad_layers.saving.registry import (
    custom_object_scope,
    get_registered_name,
    get_registered_object,
)

__all__ = ["deserialize_keras_object", "serialize_keras_object"]

_PLAIN = (str, int, float, bool)


# -- serializing ---------------------------------------------------------------------------------
def serialize_keras_object(obj):
    """The JSON-ready config of ``obj`` (see the module docstring)."""
    if obj is None or isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, list | tuple):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        value = {"value": obj.tolist(), "dtype": obj.dtype.name}
        return {"class_name": "__numpy__", "config": value}
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "as_list"):  # a TensorShape
        return obj.as_list()
    if isinstance(obj, types.FunctionType | types.BuiltinFunctionType):
        return _serialize_function(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize {obj!r} (of type {type(obj).__name__}): it is neither a plain "
            "value nor an object with get_config()"
        )
    fields = _class_fields(obj)
    config = {"module": fields["module"], "class_name": fields["class_name"]}
    config["config"] = serialize_keras_object(obj.get_config())
    config["registered_name"] = fields["registered_name"]
    build_config = obj.get_build_config() if hasattr(obj, "get_build_config") else None
    if build_config is not None:
        config["build_config"] = serialize_keras_object(build_config)
    compile_config = obj.get_compile_config() if hasattr(obj, "get_compile_config") else None
    if compile_config is not None:
        config["compile_config"] = serialize_keras_object(compile_config)
    return config


def _class_fields(obj) -> dict:
    cls = type(obj)
    public = keras_names.keras_name(cls)
    if public == keras_names.FUNCTIONAL:  # Keras 3 registers its functional class by name
        return {"module": public[0], "class_name": public[1], "registered_name": public[1]}
    if public is not None:
        return {"module": public[0], "class_name": public[1], "registered_name": None}
    return {
        "module": cls.__module__,
        "class_name": cls.__name__,
        "registered_name": get_registered_name(cls),
    }


def _serialize_function(fn) -> dict:
    if fn.__name__ == "<lambda>":
        raise ValueError(
            "Cannot serialize a lambda: saving it would mean storing code to run when loading. "
            "Use a named function registered with @mgl.saving.register_keras_serializable()"
        )
    public = keras_names.keras_name(fn)
    module, name = public if public is not None else (fn.__module__, get_registered_name(fn))
    return {"module": module, "class_name": "function", "config": name, "registered_name": name}


# -- deserializing -------------------------------------------------------------------------------
def deserialize_keras_object(config, custom_objects=None):
    """The object a config from :func:`serialize_keras_object` describes. ``custom_objects``:
    ``{name: class or function}`` for classes that are neither built-in nor registered."""
    with custom_object_scope(custom_objects):
        return _deserialize(config)


def _deserialize(config):
    if config is None or isinstance(config, _PLAIN):
        return config
    if isinstance(config, list | tuple):
        return [_deserialize(x) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Cannot deserialize {config!r} (of type {type(config).__name__})")
    if "class_name" not in config or "config" not in config:
        return {key: _deserialize(value) for key, value in config.items()}
    class_name, inner = config["class_name"], config["config"]
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__lambda__":
        raise ValueError(
            "The config holds a Python lambda (stored code); it is never run. Replace the "
            "lambda with a named function registered with @mgl.saving.register_keras_serializable()"
        )
    if class_name == "function":
        return _find(config, inner)
    cls = _find(config, class_name)
    if not hasattr(cls, "from_config"):
        raise TypeError(f"{class_name} has no from_config(), so it cannot be rebuilt from a config")
    inner = {} if inner is None else inner
    if not isinstance(inner, dict):
        raise TypeError(f"The config of {class_name} must be a dict, received {inner!r}")
    if not _rebuilds_own_layers(cls, inner):
        inner = {key: _deserialize(value) for key, value in inner.items()}
    try:
        instance = cls.from_config(inner)
    except TypeError as err:
        raise TypeError(
            f"{class_name} could not be rebuilt from its config ({err}). Objects returned by "
            "get_config() (layers, initializers, ...) must be accepted by from_config()"
        ) from err
    build_config = config.get("build_config")
    if build_config and not getattr(instance, "built", True):
        instance.build_from_config(_deserialize(build_config))
    compile_config = config.get("compile_config")
    if compile_config:
        instance.compile_from_config(compile_config)
    return instance


def _rebuilds_own_layers(cls, inner: dict) -> bool:
    """A model's ``from_config`` rebuilds its layers from their configs (and their graph)."""
    from minigrad_layers.engine.model import Model

    return isinstance(cls, type) and issubclass(cls, Model) and "layers" in inner


def _find(config: dict, name: str):
    """The class or function ``config`` names: custom objects and registry, then built-ins."""
    registered = config.get("registered_name")
    for key in (registered, name):
        if isinstance(key, str):
            found = get_registered_object(key)
            if found is not None:
                return found
    module = config.get("module")
    found = keras_names.builtin(module, name)
    if found is not None:
        return found
    kind = "function" if config["class_name"] == "function" else "class"
    raise ValueError(
        f"Unknown {kind} {name!r} (module {module!r}, registered name {registered!r}): it is not "
        f"built in and not registered. Decorate it with "
        f"@mgl.saving.register_keras_serializable() before saving and loading, or pass "
        f"custom_objects={{{(registered or name)!r}: {name.split('>')[-1]}}} to the loading "
        "function"
    )
