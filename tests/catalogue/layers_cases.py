"""Bad inputs to the layers: InputSpec checks of built layers, masks, Masking and Embedding ids,
set_weights."""

import numpy as np

import minigrad_layers as mgl
from catalogue.case import Case


def _built(layer, x):
    layer(x)
    return layer


def _dense_called_with(features):
    dense = _built(mgl.Dense(3, name="dense"), np.ones((2, 4)))
    return dense(np.ones((2, features)))


CASES = [
    Case(
        "dense built for 4 features called with 5",
        lambda: _dense_called_with(5),
        ValueError,
        (
            "Input 0 of layer 'dense' is incompatible with the layer",
            "expected axis -1 of input shape to have value 4",
            "received input with shape (2, 5)",
        ),
    ),
    Case(
        "dense built for 4 features given a symbolic input of 5",
        lambda: _built(mgl.Dense(3, name="dense"), np.ones((2, 4)))(mgl.Input((5,))),
        ValueError,
        ("layer 'dense'", "value 4", "shape (None, 5)"),
    ),
    Case(
        "built dense given a vector",
        lambda: _built(mgl.Dense(3, name="dense"), np.ones((2, 4)))(np.ones(4)),
        ValueError,
        ("layer 'dense'", "expected min_ndim=2, found ndim=1", "(4,)"),
    ),
    Case(
        "embedding with input_length 4 given sequences of 5",
        lambda: _built(mgl.Embedding(9, 2, input_length=4, name="emb"), np.zeros((1, 4), int))(
            np.zeros((1, 5), int)
        ),
        ValueError,
        ("layer 'emb'", "expected shape=(None, 4)", "found shape=(1, 5)"),
    ),
    Case(
        "built lstm given another feature count",
        lambda: _built(mgl.LSTM(2, name="lstm"), np.ones((2, 5, 3)))(np.ones((2, 5, 4))),
        ValueError,
        ("layer 'lstm'", "expected shape=(None, None, 3)", "found shape=(2, 5, 4)"),
    ),
    Case(
        "set_weights with a wrongly shaped kernel",
        lambda: _built(mgl.Dense(3, name="dense"), np.ones((2, 4))).set_weights(
            [np.zeros((5, 3)), np.zeros(3)]
        ),
        ValueError,
        ("'dense/kernel' has shape (4, 3)", "array of shape (5, 3)"),
    ),
    Case(
        "set_weights with too few arrays",
        lambda: _built(mgl.Dense(3, name="dense"), np.ones((2, 4))).set_weights([np.zeros((4, 3))]),
        ValueError,
        ("has 2 weights", "list of 1 arrays"),
    ),
]
