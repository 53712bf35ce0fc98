"""``save_weights`` / ``load_weights``: a model's weights in one ``.npz`` file, never a pickle.

The file holds each weight's array under the weight's name (``"dense/kernel"``) and, under
``"__names__"``, the names in ``model.weights`` order. Loading matches the file's weights to the
model's in that order; the names must agree up to the numeric suffixes that unique naming adds
(``dense_3/kernel`` matches ``dense/kernel``), so a model rebuilt in the same session loads a
file saved from its twin. Every shape is checked before any weight is assigned.

>>> import os, tempfile, numpy as np, minigrad_layers as mgl
>>> model = mgl.Sequential([mgl.Dense(2, input_shape=(3,))])
>>> path = os.path.join(tempfile.mkdtemp(), "weights")
>>> model.save_weights(path)               # writes weights.npz
>>> twin = mgl.Sequential([mgl.Dense(2, input_shape=(3,))])
>>> twin.load_weights(path)
>>> all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
True
"""

from __future__ import annotations

import os
import re
import zipfile

import numpy as np

__all__ = ["load_weights", "save_weights"]

_NAMES_KEY = "__names__"


def _npz_path(path) -> str:
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def _canonical(name: str) -> str:
    """``"dense_3/kernel_1"`` -> ``"dense/kernel"``: the name without unique-naming suffixes."""
    return "/".join(re.sub(r"_\d+$", "", part) for part in name.split("/"))


def save_weights(model, path) -> None:
    """Write ``model.weights`` to ``path`` (``.npz`` appended when missing)."""
    weights = model.weights
    names = [w.name for w in weights]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(
            f"Cannot save model {model.name!r}: several weights share the names {repeated}; "
            "give its layers unique names"
        )
    arrays = {w.name: w.numpy() for w in weights}
    np.savez(_npz_path(path), **{_NAMES_KEY: np.array(names, dtype=str)}, **arrays)


def _read(path: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """The names and arrays of a file written by :func:`save_weights`, without unpickling."""
    refusal = (
        f"{path} holds pickled Python objects; load_weights never unpickles (that could run "
        "arbitrary code). It reads only the plain .npz files written by save_weights"
    )
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError:
        raise ValueError(refusal) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is a single .npy array, not a weights file from save_weights")
    with archive:
        if _NAMES_KEY not in archive.files:
            raise ValueError(
                f"{path} is not a weights file written by save_weights: it has no "
                f"{_NAMES_KEY!r} entry (it holds {archive.files})"
            )
        try:
            names = [str(n) for n in archive[_NAMES_KEY]]
            missing = [n for n in names if n not in archive.files]
            if missing:
                raise ValueError(f"{path} lists weights it does not hold: {missing}")
            return names, {n: archive[n] for n in names}
        except ValueError as err:
            if "allow_pickle" in str(err):
                raise ValueError(refusal) from None
            raise


def load_weights(model, path) -> None:
    """Assign the weights saved in ``path`` (``.npz`` appended when missing) to ``model``."""
    path = _npz_path(path)
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built, so it has no weights to load into yet: call it "
            "on data, give the first layer an `input_shape`, or call model.build(shape) first"
        )
    try:
        names, arrays = _read(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise ValueError(f"Cannot read weights from {path}: {err}") from None
    weights = model.weights
    if len(names) != len(weights) or any(
        _canonical(n) != _canonical(w.name) for n, w in zip(names, weights, strict=False)
    ):
        in_file = {_canonical(n) for n in names}
        in_model = {_canonical(w.name) for w in weights}
        missing = [w.name for w in weights if _canonical(w.name) not in in_file]
        extra = [n for n in names if _canonical(n) not in in_model]
        raise ValueError(
            f"The weights in {path} do not match model {model.name!r} (matched in order): the "
            f"file holds {len(names)} weights, the model {len(weights)}; weights missing from "
            f"the file: {missing or 'none'}; weights in the file the model lacks: "
            f"{extra or 'none'}. File: {names}; model: {[w.name for w in weights]}"
        )
    for name, weight in zip(names, weights, strict=True):
        if arrays[name].shape != weight.shape:
            raise ValueError(
                f"Weight {weight.name!r} of model {model.name!r} has shape {weight.shape}, but "
                f"{path} holds shape {arrays[name].shape} for it (saved as {name!r})"
            )
    for name, weight in zip(names, weights, strict=True):
        weight.assign(arrays[name])
