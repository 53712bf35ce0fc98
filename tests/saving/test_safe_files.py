"""Crash-safe writes (a failure mid-write leaves the old file intact) and unreadable files
reported as ValueErrors that name the file."""

import h5py
import numpy as np
import pytest

import minigrad_layers as mgl
from minigrad_layers.saving import weights_file


def model():
    return mgl.Sequential([mgl.Dense(2, input_shape=(3,))])


def test_a_failure_mid_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "m.weights.h5"
    old = model()
    old.save_weights(target)
    before = target.read_bytes()

    def failing(model, h5file):
        h5file.create_group("layers/dense/vars")["0"] = np.ones((3, 2))  # partial output
        raise RuntimeError("disk full")

    monkeypatch.setattr(weights_file, "write_weights", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        model().save_weights(target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.weights.h5"]  # no temporary left
    monkeypatch.undo()
    fresh = model()
    fresh.load_weights(target)
    np.testing.assert_array_equal(fresh.get_weights()[0], old.get_weights()[0])


@pytest.mark.parametrize(
    "content",
    [b"", b"not an hdf5 file at all", None],
    ids=["empty", "text", "truncated"],
)
def test_unreadable_files_raise_value_errors_naming_the_file(tmp_path, content):
    target = tmp_path / "m.weights.h5"
    if content is None:
        model().save_weights(target)
        content = target.read_bytes()[:600]
    target.write_bytes(content)
    with pytest.raises(ValueError, match="m.weights.h5"):
        model().load_weights(target)


def test_an_hdf5_file_that_is_not_a_weights_file_is_named(tmp_path):
    target = tmp_path / "other.weights.h5"
    with h5py.File(target, "w") as f:
        f["data"] = np.ones(3)
    with pytest.raises(ValueError, match="other.weights.h5.*not a weights file"):
        model().load_weights(target)
