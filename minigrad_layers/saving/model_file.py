"""Whole-model ``.keras`` files, Keras 3's format: a zip archive holding

* ``metadata.json``: ``{"keras_version": ..., "date_saved": "2026-01-31@12:00:00"}``;
* ``config.json``: the model serialized (``serialization``), with ``compile_config`` when it
  is compiled;
* ``model.weights.h5``: every variable under its structural path (``weights_file``), the
  optimizer's under ``optimizer`` so that training resumes exactly where it stopped.

Loading rebuilds the model from its config (compiling it from ``compile_config`` unless
``compile=False``), then assigns the weights and the optimizer state. Nothing is unpickled or
run: classes are found only among the built-ins, the registered classes and ``custom_objects``.
The file is written beside its target and moved over it at the end (``atomic``).

>>> import os, tempfile, numpy as np, minigrad_layers as mgl
>>> model = mgl.Sequential([mgl.Dense(2, input_shape=(3,))])
>>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
>>> model.save(path)
>>> again = load_model(path)
>>> bool(np.array_equal(again.predict(np.ones((1, 3))), model.predict(np.ones((1, 3)))))
True
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
import zlib

from minigrad_layers.saving.atomic import atomic_path
from minigrad_layers.saving.serialization import deserialize_keras_object, serialize_keras_object
from minigrad_layers.saving.weights_file import SUFFIX as WEIGHTS_SUFFIX
from minigrad_layers.saving.weights_file import read_weights, write_weights

__all__ = ["load_model", "save_model", "weights_bytes"]

SUFFIX = ".keras"
KERAS_VERSION = "3.15.1"  # the Keras release whose format these files follow
CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_BROKEN = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError)


def _h5py():
    import h5py

    return h5py


def _check_suffix(path: str, action: str) -> None:
    if not path.endswith(SUFFIX):
        raise ValueError(
            f"Cannot {action} {path!r}: a whole model is a {SUFFIX!r} file (Keras 3's format); "
            f"name the file '<name>{SUFFIX}', or use save_weights/load_weights with a "
            f"'<name>{WEIGHTS_SUFFIX}' file for the weights alone"
        )


def save_model(model, filepath, overwrite: bool = True) -> None:
    """Write ``model`` (config, weights, optimizer state) to ``filepath``, a ``.keras`` file."""
    path = os.fspath(filepath)
    _check_suffix(path, "save the model to")
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built, so it has no weights to save yet: call it on "
            "data, give the first layer an `input_shape`, or call model.build(shape) first"
        )
    if not overwrite and os.path.exists(path):
        raise ValueError(f"{path} exists and overwrite=False: choose another name")
    config = json.dumps(serialize_keras_object(model))
    now = datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")
    metadata = json.dumps({"keras_version": KERAS_VERSION, "date_saved": now})
    weights = io.BytesIO()
    with _h5py().File(weights, "w") as h5file:
        write_weights(model, h5file)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr(METADATA, metadata)
        archive.writestr(CONFIG, config)
        archive.writestr(WEIGHTS, weights.getvalue())


def _read_member(path: str, name: str) -> bytes:
    """One member of the ``.keras`` archive ``path``, or a ValueError saying what is wrong."""
    if not os.path.exists(path):
        raise ValueError(f"File not found: {path} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            if name not in archive.namelist():
                raise ValueError(
                    f"{path} is not a complete {SUFFIX} file: it lacks {name!r} (it holds "
                    f"{sorted(archive.namelist())})"
                )
            return archive.read(name)
    except _BROKEN as err:
        raise ValueError(
            f"Cannot read {path}: it is not a {SUFFIX} file (a zip archive), or it is "
            f"truncated or corrupt ({type(err).__name__}: {err})"
        ) from None


def weights_bytes(path: str) -> bytes:
    """The ``model.weights.h5`` member of a ``.keras`` file (for ``load_weights``)."""
    return _read_member(path, WEIGHTS)


def load_model(filepath, custom_objects=None, compile: bool = True):  # noqa: A002 (Keras' name)
    """The model saved in ``filepath`` (a ``.keras`` file) with its weights, compiled with its
    optimizer state unless ``compile=False``. ``custom_objects``: ``{name: class or function}``
    for the classes in the file that are neither built-in nor registered."""
    path = os.fspath(filepath)
    _check_suffix(path, "load a model from")
    raw = _read_member(path, CONFIG)
    try:
        config = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: its {CONFIG} is not valid JSON ({err})") from None
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ValueError(f"{path}: its {CONFIG} does not describe a model (no class_name/config)")
    if not compile:
        config = {key: value for key, value in config.items() if key != "compile_config"}
    model = deserialize_keras_object(config, custom_objects=custom_objects)
    h5py = _h5py()
    try:
        h5file = h5py.File(io.BytesIO(weights_bytes(path)), "r")
    except OSError as err:
        raise ValueError(f"{path}: its {WEIGHTS} is not a readable HDF5 file ({err})") from None
    with h5file:
        try:
            read_weights(model, h5file, f"{path} ({WEIGHTS})")
        except (OSError, KeyError) as err:
            raise ValueError(f"{path}: its {WEIGHTS} is truncated or corrupt ({err})") from None
    return model
