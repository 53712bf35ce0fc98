"""Saving, as ``keras.saving``: whole models in ``.keras`` files (``model_file``), their configs
(``serialization``, Keras 3's schema; built-in names in ``keras_names``), the registry of custom
classes (``registry``), weights files (``weights_file``, Keras 3's ``.weights.h5``;
``legacy_npz`` reads the old ``.npz``), their paths (``structure``) and crash-safe writes
(``atomic``)."""

from minigrad_layers.saving.model_file import load_model, save_model
from minigrad_layers.saving.registry import (
    custom_object_scope,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from minigrad_layers.saving.serialization import deserialize_keras_object, serialize_keras_object

__all__ = [
    "custom_object_scope",
    "deserialize_keras_object",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "register_keras_serializable",
    "save_model",
    "serialize_keras_object",
]
