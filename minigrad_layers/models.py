"""Models, as ``keras.models``: ``Sequential``, ``Model``, ``load_model`` (a ``.keras`` file),
``model_from_json`` (``model.to_json()``'s output) and ``clone_model`` (the same architecture
with new weights).

>>> import numpy as np, minigrad_layers as mgl
>>> model = mgl.models.Sequential([mgl.layers.Dense(2, input_shape=(3,))])
>>> twin = mgl.models.clone_model(model)
>>> twin.get_config() == model.get_config(), twin.layers[0] is model.layers[0]
(True, False)
"""

from __future__ import annotations

import json

from minigrad_layers.engine.layer import Layer
from minigrad_layers.engine.model import Model, Sequential
from minigrad_layers.saving.model_file import load_model
from minigrad_layers.saving.registry import custom_object_scope
from minigrad_layers.saving.serialization import deserialize_keras_object

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json"]


def model_from_json(json_string: str, custom_objects=None):
    """The model described by ``json_string`` (from ``model.to_json()``), with new weights
    (compiled if the JSON holds a ``compile_config``)."""
    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as err:
        raise ValueError(
            f"model_from_json expects a JSON string from model.to_json(): {err}"
        ) from None
    return deserialize_keras_object(config, custom_objects=custom_objects)


def clone_model(model, custom_objects=None):
    """A new, uncompiled model with ``model``'s architecture and layer names and newly
    initialized weights (Keras: ``type(model).from_config(model.get_config())``). The classes
    of the model's layers are known by name during the rebuild, registered or not."""
    if not isinstance(model, Model):
        raise ValueError(f"clone_model expects a Model instance, received {type(model).__name__}")
    known = {}
    for layer in [model, *model._flatten_layers()]:
        if isinstance(layer, Layer):
            known.setdefault(type(layer).__name__, type(layer))
    known.update(custom_objects or {})
    with custom_object_scope(known):
        return type(model).from_config(model.get_config())
