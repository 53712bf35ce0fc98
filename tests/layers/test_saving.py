"""save_weights / load_weights: one .npz of named arrays, bit-exact round trips, clear errors, and
no unpickling."""

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


def test_save_then_load_into_a_fresh_model_is_bit_exact(tmp_path):
    model = make_model()
    expected = model.predict(DATA, verbose=0)
    model.save_weights(tmp_path / "weights")  # suffix added
    assert (tmp_path / "weights.npz").exists()

    fresh = make_model()  # same session: its layers are dense_2, dense_3, ...
    assert not np.array_equal(fresh.predict(DATA, verbose=0), expected)
    fresh.load_weights(tmp_path / "weights")
    np.testing.assert_array_equal(fresh.predict(DATA, verbose=0), expected)
    for a, b in zip(model.get_weights(), fresh.get_weights(), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_the_file_holds_the_weights_under_their_names_and_the_ordered_names(tmp_path):
    mgl.clear_session()
    model = make_model()
    model.save_weights(tmp_path / "w.npz")
    with np.load(tmp_path / "w.npz", allow_pickle=False) as archive:
        names = list(archive["__names__"])
        assert names == [w.name for w in model.weights]
        assert names[0] == "embedding/embeddings"
        for w in model.weights:
            np.testing.assert_array_equal(archive[w.name], w.numpy())


def test_loading_into_other_shapes_names_the_weight_and_both_shapes(tmp_path):
    make_model(units=4).save_weights(tmp_path / "w")
    other = make_model(units=3)
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"kernel.*\(5, 3\).*\(5, 4\)"):
        other.load_weights(tmp_path / "w")
    for a, b in zip(before, other.get_weights(), strict=True):  # nothing was assigned
        np.testing.assert_array_equal(a, b)


def test_a_missing_weight_is_named(tmp_path):
    x = mgl.Input((3,))
    mgl.Model(x, mgl.Dense(2)(x)).save_weights(tmp_path / "small")
    y = mgl.Input((3,))
    bigger = mgl.Model(y, mgl.Dense(2)(mgl.Dense(3, use_bias=False)(y)))
    with pytest.raises(ValueError, match="missing from the file") as info:
        bigger.load_weights(tmp_path / "small")
    assert bigger.weights[-1].name in str(info.value)


def test_files_that_need_unpickling_are_refused(tmp_path):
    model = make_model()
    np.savez(tmp_path / "evil.npz", __names__=np.array([None, "x"], dtype=object))
    with pytest.raises(ValueError, match="never unpickles"):
        model.load_weights(tmp_path / "evil.npz")
    (tmp_path / "pickled.npz").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="never unpickles"):
        model.load_weights(tmp_path / "pickled")
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="__names__"):
        model.load_weights(tmp_path / "plain")


def test_an_unbuilt_model_cannot_load(tmp_path):
    model = mgl.Sequential([mgl.Dense(2, input_shape=(3,))])
    model.save_weights(tmp_path / "w")
    with pytest.raises(ValueError, match="not built"):
        mgl.Sequential([mgl.Dense(2)]).load_weights(tmp_path / "w")
    lazy = mgl.Sequential([mgl.Dense(2)])
    lazy(np.ones((1, 3)))
    lazy.load_weights(tmp_path / "w")
    np.testing.assert_array_equal(lazy.get_weights()[0], model.get_weights()[0])
