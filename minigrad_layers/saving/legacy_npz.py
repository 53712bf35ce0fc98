"""Reading the old weights format: one ``.npz`` file (never a pickle), before ``.weights.h5``.

Only loading remains, so files saved earlier still load; new files are ``.weights.h5``
(:mod:`weights_file`). To convert an old file: build the model, ``model.load_weights("w.npz")``,
then ``model.save_weights("w.weights.h5")``.

The file holds each weight's array under the weight's name (``"dense/kernel"``) and, under
``"__names__"``, the names in ``model.weights`` order. Loading matches the file's weights to the
model's in that order; the names must agree up to the numeric suffixes that unique naming adds
(``dense_3/kernel`` matches ``dense/kernel``), so a model rebuilt in the same session loads a
file saved from its twin. Every shape is checked before any weight is assigned.

>>> import os, tempfile, numpy as np, minigrad_layers as mgl
>>> model = mgl.Sequential([mgl.Dense(2, input_shape=(3,))])
>>> path = os.path.join(tempfile.mkdtemp(), "old.npz")
>>> np.savez(path, __names__=np.array([w.name for w in model.weights]),
...          **{w.name: np.ones(w.shape) for w in model.weights})
>>> model.load_weights(path)
>>> model.get_weights()[1]
array([1., 1.], dtype=float32)
"""

from __future__ import annotations

import re
import zipfile

import numpy as np

__all__ = ["load_weights"]

_NAMES_KEY = "__names__"


def _canonical(name: str) -> str:
    """``"dense_3/kernel_1"`` -> ``"dense/kernel"``: the name without unique-naming suffixes."""
    return "/".join(re.sub(r"_\d+$", "", part) for part in name.split("/"))


def _read(path: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """The names and arrays of a file written by :func:`save_weights`, without unpickling."""
    refusal = (
        f"{path} holds pickled Python objects; load_weights never unpickles (that could run "
        "arbitrary code). It reads only the plain .npz files written by the old save_weights"
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
                f"{path} is not a weights file written by the old save_weights: it has no "
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
    """Assign the weights of the old ``.npz`` file ``path`` to the built ``model``."""
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
