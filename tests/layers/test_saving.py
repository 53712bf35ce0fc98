"""Old ``.npz`` weights files (the format before ``.weights.h5``) still load, by the old rules
(``model.weights`` order, names up to unique-naming suffixes), and are never unpickled."""

import pickle

import numpy as np
import pytest

import minigrad_layers as mgl

RNG = np.random.default_rng(2)


def make_model(units=4):
    ids = mgl.Input((None,), dtype="int64")
    h = mgl.Embedding(12, 5, mask_zero=True)(ids)
    h = mgl.Dense(units, activation="tanh")(h)
    return mgl.Model(ids, mgl.Dense(2)(h))


DATA = RNG.integers(0, 12, size=(6, 7))


def write_old_file(model, path):
    """What the old save_weights wrote: each array under its weight name, plus the names."""
    names = [w.name for w in model.weights]
    np.savez(path, __names__=np.array(names), **{w.name: w.numpy() for w in model.weights})


def test_an_old_file_loads_bit_exactly_and_converts_to_the_new_format(tmp_path):
    model = make_model()
    expected = model.predict(DATA, verbose=0)
    write_old_file(model, tmp_path / "w.npz")
    fresh = make_model()  # same session: its layers are dense_2, dense_3, ...
    fresh.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(fresh.predict(DATA, verbose=0), expected)
    fresh.save_weights(tmp_path / "w.weights.h5")  # the conversion the docs describe
    third = make_model()
    third.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(third.predict(DATA, verbose=0), expected)


def test_saving_to_npz_is_refused_with_the_new_suffix_named(tmp_path):
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        make_model().save_weights(tmp_path / "w.npz")


def test_old_files_of_other_shapes_name_the_weight_and_both_shapes(tmp_path):
    write_old_file(make_model(units=4), tmp_path / "w.npz")
    other = make_model(units=3)
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"kernel.*\(5, 3\).*\(5, 4\)"):
        other.load_weights(tmp_path / "w.npz")
    for a, b in zip(before, other.get_weights(), strict=True):  # nothing was assigned
        np.testing.assert_array_equal(a, b)


def test_an_old_file_missing_a_weight_names_it(tmp_path):
    x = mgl.Input((3,))
    write_old_file(mgl.Model(x, mgl.Dense(2)(x)), tmp_path / "small.npz")
    y = mgl.Input((3,))
    bigger = mgl.Model(y, mgl.Dense(2)(mgl.Dense(3, use_bias=False)(y)))
    with pytest.raises(ValueError, match="missing from the file") as info:
        bigger.load_weights(tmp_path / "small.npz")
    assert bigger.weights[-1].name in str(info.value)


def test_old_files_that_need_unpickling_are_refused(tmp_path):
    model = make_model()
    np.savez(tmp_path / "evil.npz", __names__=np.array([None, "x"], dtype=object))
    with pytest.raises(ValueError, match="never unpickles"):
        model.load_weights(tmp_path / "evil.npz")
    (tmp_path / "pickled.npz").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="never unpickles"):
        model.load_weights(tmp_path / "pickled.npz")
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="__names__"):
        model.load_weights(tmp_path / "plain.npz")
