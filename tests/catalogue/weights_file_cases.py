"""Bad weights files: empty, truncated, foreign, missing, of another structure, wrongly named."""

import tempfile
from pathlib import Path

import h5py
import numpy as np

import minigrad_layers as mgl
from catalogue.case import Case


def _model():
    return mgl.Sequential([mgl.Dense(2, input_shape=(3,))])


def _stack(*units):
    return mgl.Sequential([mgl.Dense(units[0], input_shape=(3,)), *map(mgl.Dense, units[1:])])


def _load(into, write):
    """``into().load_weights`` of a file that ``write(path)`` made in a fresh folder."""
    path = Path(tempfile.mkdtemp()) / "m.weights.h5"
    write(path)
    into().load_weights(path)


def _truncated(path):
    _model().save_weights(path)
    path.write_bytes(path.read_bytes()[:600])


def _foreign(path):
    with h5py.File(path, "w") as f:
        f["data"] = np.ones(3)


CASES = [
    Case(
        "load_weights of an empty file",
        lambda: _load(_model, lambda p: p.write_bytes(b"")),
        ValueError,
        ("m.weights.h5", "empty, truncated or not an hdf5 file"),
    ),
    Case(
        "load_weights of a truncated file",
        lambda: _load(_model, _truncated),
        ValueError,
        ("m.weights.h5", "truncated"),
    ),
    Case(
        "load_weights of an hdf5 file that holds no weights",
        lambda: _load(_model, _foreign),
        ValueError,
        ("not a weights file", "it holds ['data']", "expected a file written by save_weights"),
    ),
    Case(
        "load_weights of a file that does not exist",
        lambda: _model().load_weights(Path(tempfile.mkdtemp()) / "none.weights.h5"),
        FileNotFoundError,
        ("no weights file at", "none.weights.h5"),
    ),
    Case(
        "load_weights of a stack with another layer size",
        lambda: _load(lambda: _stack(4, 5, 2), lambda p: _stack(4, 4, 2).save_weights(p)),
        ValueError,
        ("layers/dense_1", "expected shapes [(4, 5), (5,)]", "found [(4, 4), (4,)]"),
    ),
    Case(
        "load_weights of a longer stack",
        lambda: _load(lambda: _stack(4, 4), lambda p: _stack(4, 4, 2).save_weights(p)),
        ValueError,
        ("paths the model lacks", "layers/dense_2"),
    ),
    Case(
        "save_weights to a name without .weights.h5",
        lambda: _model().save_weights(Path(tempfile.mkdtemp()) / "m.txt"),
        ValueError,
        ("must end in '.weights.h5'", "m.txt"),
    ),
]
