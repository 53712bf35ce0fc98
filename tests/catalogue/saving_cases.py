"""Bad inputs to whole-model saving: wrong suffixes, files that are not (complete) ``.keras``
archives, classes that are neither built-in nor registered."""

import json
import os
import tempfile
import zipfile

import minigrad_layers as mgl
from catalogue.case import Case


def _model():
    return mgl.Sequential([mgl.Dense(1, input_shape=(2,))])


def _in_temp(name: str) -> str:
    return os.path.join(tempfile.mkdtemp(), name)


def _saved(name="m.keras") -> str:
    path = _in_temp(name)
    _model().save(path)
    return path


def _file_with(name: str, content: bytes) -> str:
    path = _in_temp(name)
    with open(path, "wb") as f:
        f.write(content)
    return path


def _truncated() -> str:
    path = _saved("truncated.keras")
    with open(path, "rb") as f:
        content = f.read()
    return _file_with("truncated.keras", content[: len(content) // 2])


def _without(member: str) -> str:
    source = _saved()
    path = _in_temp("partial.keras")
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w") as new:
        for name in old.namelist():
            if name != member:
                new.writestr(name, old.read(name))
    return path


def _with_member(member: str, content: bytes) -> str:
    source = _saved()
    path = _in_temp("edited.keras")
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w") as new:
        for name in old.namelist():
            new.writestr(name, content if name == member else old.read(name))
    return path


class _Local(mgl.Layer):
    pass


_UNKNOWN = {
    "module": "my_project.layers",
    "class_name": "Fancy",
    "config": {},
    "registered_name": "Fancy",
}

CASES = [
    Case(
        "save a model to a .h5 file",
        lambda: _model().save(_in_temp("model.h5")),
        ValueError,
        ("model.h5", ".keras", "save_weights", ".weights.h5"),
    ),
    Case(
        "load_model from a .weights.h5 file",
        lambda: mgl.models.load_model(_in_temp("model.weights.h5")),
        ValueError,
        ("model.weights.h5", ".keras", "load_weights"),
    ),
    Case(
        "load_model from a file that does not exist",
        lambda: mgl.models.load_model(os.path.join(tempfile.gettempdir(), "absent.keras")),
        ValueError,
        ("absent.keras", "not found"),
    ),
    Case(
        "load_model from a text file named .keras",
        lambda: mgl.models.load_model(_file_with("notes.keras", b"not a zip archive")),
        ValueError,
        ("notes.keras", "zip", "corrupt"),
    ),
    Case(
        "load_model from a truncated .keras file",
        lambda: mgl.models.load_model(_truncated()),
        ValueError,
        ("truncated.keras", "truncated"),
    ),
    Case(
        "load_model from a .keras file without config.json",
        lambda: mgl.models.load_model(_without("config.json")),
        ValueError,
        ("partial.keras", "config.json"),
    ),
    Case(
        "load_model from a .keras file without its weights",
        lambda: mgl.models.load_model(_without("model.weights.h5")),
        ValueError,
        ("partial.keras", "model.weights.h5"),
    ),
    Case(
        "load_model from a .keras file whose config.json is not JSON",
        lambda: mgl.models.load_model(_with_member("config.json", b"{not json")),
        ValueError,
        ("edited.keras", "config.json", "json"),
    ),
    Case(
        "load_model from a .keras file whose weights are not HDF5",
        lambda: mgl.models.load_model(_with_member("model.weights.h5", b"garbage")),
        ValueError,
        ("edited.keras", "model.weights.h5"),
    ),
    Case(
        "load_model from a .keras file whose config.json describes a layer",
        lambda: mgl.models.load_model(
            _with_member(
                "config.json",
                json.dumps(mgl.saving.serialize_keras_object(mgl.Dense(1))).encode(),
            )
        ),
        ValueError,
        ("edited.keras", "Dense", "not a model"),
    ),
    Case(
        "deserialize a class that is not registered",
        lambda: mgl.saving.deserialize_keras_object(_UNKNOWN),
        ValueError,
        ("Fancy", "my_project.layers", "register_keras_serializable", "custom_objects"),
    ),
    Case(
        "load a model holding an unregistered layer class",
        lambda: mgl.models.load_model(_saved_with_local_layer()),
        ValueError,
        ("_Local", "register_keras_serializable", "custom_objects"),
    ),
    Case(
        "deserialize a Keras operation minigrad_layers cannot compute",
        lambda: mgl.saving.deserialize_keras_object(
            {"module": "keras.src.ops.numpy", "class_name": "Cumsum", "config": {"axis": 0}}
        ),
        ValueError,
        ("Cumsum", "keras.src.ops.numpy", "NotEqual"),
    ),
    Case(
        "deserialize a Keras ConvertToTensor to a sparse tensor",
        lambda: mgl.saving.deserialize_keras_object(
            {
                "module": "keras.src.ops.core",
                "class_name": "ConvertToTensor",
                "config": {"name": "c", "dtype": None, "sparse": True, "ragged": None},
            }
        ),
        ValueError,
        ("ConvertToTensor", "'c'", "sparse=True"),
    ),
    Case(
        "register a class without get_config",
        lambda: mgl.saving.register_keras_serializable()(type("Bare", (), {})),
        ValueError,
        ("Bare", "get_config"),
    ),
    Case(
        "register with a package name holding '>'",
        lambda: mgl.saving.register_keras_serializable(package="a>b"),
        ValueError,
        ("a>b", "package"),
    ),
    Case(
        "custom_objects that are not a dict",
        lambda: mgl.models.load_model(_saved(), custom_objects=[_Local]),
        TypeError,
        ("custom_objects", "dict", "list"),
    ),
    Case(
        "ModelCheckpoint of whole models to a .h5 file",
        lambda: mgl.callbacks.ModelCheckpoint("ckpt.h5"),
        ValueError,
        ("ckpt.h5", ".keras"),
    ),
    Case(
        "ModelCheckpoint of weights to a .keras file",
        lambda: mgl.callbacks.ModelCheckpoint("ckpt.keras", save_weights_only=True),
        ValueError,
        ("ckpt.keras", ".weights.h5"),
    ),
    Case(
        "model_from_json of a non-JSON string",
        lambda: mgl.models.model_from_json("{broken"),
        ValueError,
        ("model_from_json", "json"),
    ),
]


def _saved_with_local_layer() -> str:
    path = _in_temp("local.keras")
    mgl.Sequential([_Local(input_shape=(2,))]).save(path)
    return path
