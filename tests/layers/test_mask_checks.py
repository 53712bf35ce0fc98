"""Masks must be bool or 0/1 numbers (converted), Masking(np.nan) finds NaN steps, Embedding
accepts integer-valued float ids only."""

import re

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)
KEEP = np.array([[True, True, False], [True, False, False]])


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


class Keeps(mgl.Layer):
    """Returns the mask it receives, to see what Layer.__call__ passes on."""

    def call(self, inputs, mask=None):
        return mask


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float32, np.float64])
def test_zero_one_numbers_are_converted_to_bool(dtype):
    passed = Keeps()(np.ones((2, 3, 1)), mask=KEEP.astype(dtype))
    assert passed.dtype == bool
    np.testing.assert_array_equal(passed.numpy(), KEEP)


@pytest.mark.parametrize("unroll", [False, True])
def test_an_rnn_treats_zero_one_masks_as_bools(unroll):
    layer = mgl.LSTM(2, return_sequences=True, unroll=unroll)
    x = RNG.normal(size=(2, 3, 4))
    with_bools = layer(x, mask=KEEP).numpy()
    np.testing.assert_array_equal(layer(x, mask=KEEP.astype(np.float32)).numpy(), with_bools)
    np.testing.assert_array_equal(layer(x, mask=mg.tensor(KEEP.astype(int))).numpy(), with_bools)


@pytest.mark.parametrize("make", [Keeps, lambda: mgl.LSTM(2)], ids=["layer", "rnn"])
def test_other_masks_are_refused_naming_the_value_or_dtype(make):
    layer = make()
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match=re.escape("dtype float64 holding the value 0.5")):
        layer(x, mask=np.where(KEEP, 1.0, 0.5))
    with pytest.raises(ValueError, match=re.escape("dtype int64 holding the value 2")):
        layer(x, mask=KEEP.astype(np.int64) * 2)
    with pytest.raises(TypeError, match=re.escape(f"{layer.name!r}: a mask must be bool")):
        layer(x, mask=np.array([["a", "b", "c"]] * 2))


def test_masking_nan_masks_all_nan_steps_and_zeroes_them():
    x = RNG.normal(size=(2, 3, 2))
    x[0, 1] = np.nan
    x[1, 2] = np.nan
    x[1, 0, 0] = np.nan  # one NaN feature does not mask a step
    out = mgl.Masking(mask_value=np.nan)(x)
    expected_keep = np.array([[True, False, True], [True, True, False]])
    np.testing.assert_array_equal(mgl.get_keras_mask(out).numpy(), expected_keep)
    expected = np.where(expected_keep[..., None], x, 0.0)
    np.testing.assert_array_equal(out.numpy(), expected)  # NaN where kept, 0 where masked


def test_masking_gradient_is_zero_on_masked_steps():
    x = mg.Variable(np.array([[[1.0, 2.0], [0.0, 0.0]]]))
    with mg.GradientTape() as tape:
        total = mg.sum(mgl.Masking()(x) * 3.0)
    np.testing.assert_array_equal(tape.gradient(total, x).numpy(), [[[3.0, 3.0], [0.0, 0.0]]])


def test_embedding_casts_integer_valued_floats_and_refuses_others():
    embedding = mgl.Embedding(5, 2, name="emb")
    ids = np.array([[0, 4, 2]])
    np.testing.assert_array_equal(embedding(ids.astype(np.float32)).numpy(), embedding(ids).numpy())
    with pytest.raises(
        ValueError, match=re.escape("'emb' looks up integer ids, received the non-integer id 1.7")
    ):
        embedding(np.array([[0.0, 1.7]]))
    with pytest.raises(
        ValueError, match=re.escape("ids must lie in [0, 5); received ids from 0 to 5")
    ):
        embedding(np.array([[0, 5]]))
    with pytest.raises(ValueError, match=re.escape("received ids from -1 to 2")):
        embedding(np.array([[-1.0, 2.0]]))
    with pytest.raises(ValueError, match="non-integer id nan"):
        embedding(np.array([[np.nan]]))
