"""Masks live beside the Tensors (engine/masks.py), not in them."""

import gc

import numpy as np

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.engine import masks


def test_the_core_tensor_has_no_mask_slot():
    assert not hasattr(mg.tensor(1.0), "_keras_mask")


def test_a_mask_is_attached_read_and_removed():
    x, mask = mg.tensor(np.ones((2, 3))), mg.tensor(np.array([[True, False, True]] * 2))
    mgl.set_keras_mask(x, mask)
    assert mgl.get_keras_mask(x) is mask
    assert mgl.get_keras_mask(mg.identity(x)) is None  # a new Tensor has no mask of its own
    mgl.set_keras_mask(x, None)
    assert mgl.get_keras_mask(x) is None


def test_the_entry_goes_with_its_tensor():
    gc.collect()  # masked Tensors of earlier tests caught in reference cycles go first
    before = len(masks._masks)
    x = mg.tensor(np.ones((2, 3)))
    mgl.set_keras_mask(x, mg.tensor(np.ones((2, 3), dtype=bool)))
    assert len(masks._masks) == before + 1
    del x
    gc.collect()
    assert len(masks._masks) == before


def test_layers_pass_masks_along_through_the_table():
    ids = np.array([[3, 1, 0], [2, 0, 0]])
    out = mgl.Dense(2)(mgl.Embedding(4, 5, mask_zero=True)(ids))
    np.testing.assert_array_equal(mgl.get_keras_mask(out).numpy(), ids != 0)
