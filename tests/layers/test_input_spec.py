"""InputSpec: each field accepts what it should and rejects the rest with Keras' message; built
Dense, Embedding and RNN layers reject incompatible inputs, concrete and symbolic alike."""

import re

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers.engine.input_spec import InputSpec, assert_input_compatibility


@pytest.fixture(autouse=True)
def _fresh_names():
    mgl.clear_session()


def _message(spec, x, name="layer"):
    with pytest.raises(ValueError) as info:
        assert_input_compatibility(spec, x, name)
    return str(info.value)


@pytest.mark.parametrize(
    ("spec", "good", "bad", "detail"),
    [
        (InputSpec(ndim=3), (2, 3, 4), (2, 3), "expected ndim=3, found ndim=2. Full shape "),
        (InputSpec(min_ndim=2), (2, 3, 4), (5,), "expected min_ndim=2, found ndim=1"),
        (InputSpec(max_ndim=2), (2,), (1, 2, 3), "expected max_ndim=2, found ndim=3"),
        (InputSpec(axes={1: 3}), (2, 3, 9), (2, 4, 9), "expected axis 1 of input shape to have"),
        (InputSpec(shape=(None, 3)), (7, 3), (7, 4), "expected shape=(None, 3), found shape=(7,"),
    ],
)
def test_each_field_accepts_and_rejects(spec, good, bad, detail):
    assert_input_compatibility(spec, mg.zeros(good), "layer")
    message = _message(spec, mg.zeros(bad))
    assert message.startswith("Input 0 of layer 'layer' is incompatible with the layer: ")
    assert detail in message and str(bad) in message


def test_dtype_and_unknown_sizes():
    assert_input_compatibility(InputSpec(dtype="int64"), mg.tensor(np.array([1])), "ids")
    message = _message(InputSpec(dtype="int64"), mg.zeros((1,), dtype="float32"), "ids")
    assert "expected dtype=int64, found dtype=float32" in message
    symbolic = mgl.Input((None, 3))  # an unknown size matches any expected size
    assert_input_compatibility(InputSpec(shape=(4, 7, 3)), symbolic, "layer")


def test_several_inputs_are_counted_and_indexed():
    specs = [InputSpec(ndim=2), InputSpec(axes={-1: 2})]
    assert_input_compatibility(specs, [mg.zeros((1, 5)), mg.zeros((1, 2))], "add")
    assert "Input 1 of layer 'add'" in _message(specs, [mg.zeros((1, 5)), mg.zeros((1, 3))], "add")
    message = _message(specs, [mg.zeros((1, 5))], "add")
    assert "Layer 'add' expects 2 input(s), but it received 1 input tensors" in message


def test_a_bad_spec_is_refused():
    with pytest.raises(ValueError, match="axis 3 is greater than the maximum allowed value 1"):
        InputSpec(ndim=2, axes={3: 4})
    with pytest.raises(TypeError, match="integer keys"):
        InputSpec(axes={"last": 4})
    assert repr(InputSpec(shape=(None, 3))) == "InputSpec(shape=(None, 3))"


def test_built_dense_rejects_other_feature_counts():
    dense = mgl.Dense(3)
    dense(np.ones((2, 4)))
    expected = (
        "Input 0 of layer 'dense' is incompatible with the layer: expected axis -1 of input "
        "shape to have value 4, but received input with shape (2, 5)"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        dense(np.ones((2, 5)))
    with pytest.raises(ValueError, match=re.escape("expected min_ndim=2, found ndim=1")):
        dense(np.ones(4))
    with pytest.raises(ValueError, match=re.escape("value 4, but received input with shape (None")):
        dense(mgl.Input((5,)))  # at graph-building time too
    assert dense(mgl.Input((7, 4))).shape == (None, 7, 3)  # any rank >= 2 with 4 features


def test_built_embedding_with_an_input_length_rejects_other_lengths():
    embedding = mgl.Embedding(10, 2, input_length=4)
    embedding(np.zeros((3, 4), int))
    with pytest.raises(ValueError, match=re.escape("expected shape=(None, 4), found shape=(3, 5)")):
        embedding(np.zeros((3, 5), int))
    free = mgl.Embedding(10, 2)
    free(np.zeros((3, 4), int))
    assert free(np.zeros((3, 5), int)).shape == (3, 5, 2)  # no input_length: any length


@pytest.mark.parametrize("unroll", [False, True])
def test_built_rnn_rejects_other_step_shapes(unroll):
    layer = mgl.LSTM(2, unroll=unroll)
    layer(np.ones((2, 5, 3)))
    assert layer(np.ones((4, 7, 3))).shape == (4, 2)  # any batch, any length
    expected = (
        "Input 0 of layer 'lstm' is incompatible with the layer: expected shape=(None, None, 3), "
        "found shape=(2, 5, 4)"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        layer(np.ones((2, 5, 4)))
    with pytest.raises(ValueError, match=re.escape("expected ndim=3, found ndim=2")):
        layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=re.escape("found shape=(None, 5, 4)")):
        layer(mgl.Input((5, 4)))
