"""``.weights.h5`` files: every object's own variables under its path, Keras 3's layout.

For a path ``p`` from :mod:`structure` (``layers/dense``), the variables are the datasets
``p/vars/0``, ``p/vars/1``... in the object's order, and the group ``p/vars`` carries the
object's name as the attribute ``name``; the model itself is the root, ``vars``. A sample::

    vars                                   (name="sequential", no datasets)
    layers/lstm/vars                       (name="lstm")
    layers/lstm/cell/vars/0, /1, /2        kernel (2, 12), recurrent_kernel (3, 12), bias (12,)
    layers/dense/vars/0, /1                kernel (3, 1), bias (1,)
    optimizer/vars/0, /1, /2...            iteration, learning_rate, slots (compiled models)

Loading walks the model the same way and reads each object's variables from its own path, so a
model is matched by its structure, never by the order of ``model.weights`` or by weight names.
Every shape is checked before anything is assigned; a difference raises a ``ValueError`` naming
the path with the expected and found shapes.
"""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np

from minigrad_layers.engine.layer import Layer
from minigrad_layers.saving import legacy_npz
from minigrad_layers.saving.atomic import atomic_path
from minigrad_layers.saving.structure import own_variables, walk

__all__ = ["load_weights", "read_weights", "save_weights", "write_weights"]

SUFFIX = ".weights.h5"


def _h5py():
    import h5py

    return h5py


def _group_path(path: str) -> str:
    return f"{path}/vars" if path else "vars"


def _arrays_of(obj, owner) -> list[np.ndarray]:
    if isinstance(obj, Layer):
        return [w.numpy() for w in own_variables(obj)]
    return obj.state_arrays(owner.trainable_weights)


def write_weights(model, h5file) -> None:
    """Write ``model``'s variables into an open, empty ``h5py.File``."""
    for path, obj, owner in walk(model):
        group = h5file.create_group(_group_path(path))
        group.attrs["name"] = obj.name
        for i, array in enumerate(_arrays_of(obj, owner)):
            group[str(i)] = array


def _stored(h5file, path: str) -> list[np.ndarray]:
    group = h5file.get(_group_path(path))
    if group is None:
        return []
    return [np.asarray(group[k]) for k in sorted(group, key=int)]


def read_weights(model, h5file, source: str) -> None:
    """Assign the variables stored in an open ``h5py.File`` (read from ``source``) to ``model``."""
    if "vars" not in h5file and "layers" not in h5file:
        raise ValueError(
            f"{source} is an HDF5 file but not a weights file: it has no 'vars' or 'layers' "
            f"group (it holds {sorted(h5file)}); expected a file written by save_weights"
        )
    problems, assignments, optimizers, visited = [], [], [], set()
    for path, obj, owner in walk(model):
        visited.add(_group_path(path))
        arrays = _stored(h5file, path)
        if not isinstance(obj, Layer):
            optimizers.append((obj, owner, arrays))
            continue
        variables = own_variables(obj)
        expected = [tuple(v.shape) for v in variables]
        found = [a.shape for a in arrays]
        if expected != found:
            problems.append(
                f"layer {obj.name!r} at path {path or '(root)'!r}: expected shapes {expected}, "
                f"found {found} in the file"
            )
        assignments += zip(variables, arrays, strict=False)
    extra = []
    h5file.visititems(
        lambda name, item: (
            extra.append(name.removesuffix("/vars"))
            if name.endswith("vars")
            and len(item)
            and name not in visited
            and not name.startswith("optimizer/")
            else None
        )
    )
    if extra:
        problems.append(f"the file holds variables at paths the model lacks: {sorted(extra)}")
    if problems:
        raise ValueError(
            f"The weights in {source} do not match the structure of model {model.name!r}: "
            + "; ".join(problems)
        )
    for variable, array in assignments:
        variable.assign(array)
    for optimizer, owner, arrays in optimizers:
        optimizer.load_state_arrays(owner.trainable_weights, arrays)


def _unreadable(path: str, err: Exception) -> ValueError:
    return ValueError(
        f"Cannot read weights from {path}: it is empty, truncated or not an HDF5 file ({err})"
    )


def save_weights(model, path) -> None:
    """Write ``model``'s weights to ``path``, which must end in ``.weights.h5``, crash-safely."""
    path = os.fspath(path)
    if not path.endswith(SUFFIX):
        raise ValueError(
            f"The weights file name must end in {SUFFIX!r} (Keras 3's format), received {path!r}"
        )
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built, so it has no weights to save yet: call it on "
            "data, give the first layer an `input_shape`, or call model.build(shape) first"
        )
    with atomic_path(path) as tmp, _h5py().File(tmp, "w") as h5file:
        write_weights(model, h5file)


def load_weights(model, path) -> None:
    """Load weights into ``model`` from a ``.weights.h5`` file, a ``.keras`` file, or an old
    ``.npz`` file (read by the old rules, see :mod:`legacy_npz`)."""
    path = os.fspath(path)
    if not model.built:
        raise ValueError(
            f"Model {model.name!r} is not built, so it has no weights to load into yet: call it "
            "on data, give the first layer an `input_shape`, or call model.build(shape) first"
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path!r}")
    if path.endswith(".npz"):
        legacy_npz.load_weights(model, path)
        return
    if path.endswith(".keras"):
        from minigrad_layers.saving.model_file import weights_bytes

        source = io.BytesIO(weights_bytes(path))
    elif path.endswith(SUFFIX):
        source = path
    else:
        raise ValueError(
            f"Cannot tell the format of {path!r}: expected a name ending in {SUFFIX!r}, "
            "'.keras', or '.npz' (the old format)"
        )
    h5py = _h5py()
    try:
        h5file = h5py.File(source, "r")
    except (OSError, zipfile.BadZipFile) as err:
        raise _unreadable(path, err) from None
    with h5file:
        try:
            read_weights(model, h5file, path)
        except (OSError, KeyError) as err:
            raise _unreadable(path, err) from None
