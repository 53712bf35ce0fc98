"""Bad inputs to the layers: InputSpec checks of built layers, masks, Masking and Embedding ids,
set_weights, convolution, pooling and normalization arguments."""

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
    Case(
        "a mask holding 0.5",
        lambda: mgl.Dense(2, name="dense")(np.ones((2, 3, 4)), mask=np.full((2, 3), 0.5)),
        ValueError,
        ("layer 'dense'", "bool, or numbers that are all 0 or 1", "dtype float64", "value 0.5"),
    ),
    Case(
        "a mask of strings",
        lambda: mgl.Dense(2, name="dense")(np.ones((1, 2, 4)), mask=np.array([["yes", "no"]])),
        TypeError,
        ("layer 'dense'", "a mask must be bool", "dtype <U3"),
    ),
    Case(
        "an rnn mask holding 2",
        lambda: mgl.GRU(2, name="gru")(np.ones((1, 2, 4)), mask=np.array([[1, 2]])),
        ValueError,
        ("layer 'gru'", "dtype int64", "value 2"),
    ),
    Case(
        "embedding given a fractional id",
        lambda: mgl.Embedding(5, 2, name="emb")(np.array([[0.0, 1.7]])),
        ValueError,
        ("'emb'", "integer ids", "non-integer id 1.7"),
    ),
    Case(
        "embedding id outside the table",
        lambda: mgl.Embedding(5, 2, name="emb")(np.array([[0, 5]])),
        ValueError,
        ("input_dim=5", "[0, 5)", "from 0 to 5"),
    ),
    Case(
        "dense of zero units",
        lambda: mgl.Dense(0),
        ValueError,
        ("`units` must be a positive integer", "received 0"),
    ),
    Case(
        "dropout rate of 1",
        lambda: mgl.Dropout(1.0),
        ValueError,
        ("number in [0, 1)", "received 1.0"),
    ),
    Case(
        "layer with an unknown keyword",
        lambda: mgl.Dense(2, activaton="relu"),
        TypeError,
        ("['activaton']", "name, dtype, trainable"),
    ),
    Case(
        "symbolic tensor used as an array",
        lambda: np.asarray(mgl.Input((3,))),
        TypeError,
        ("has no value", "calling layers on it"),
    ),
    Case(
        "conv1d with an unknown padding",
        lambda: mgl.Conv1D(2, 3, padding="full"),
        ValueError,
        ("`padding`", "'valid', 'same', 'causal'", "received 'full'"),
    ),
    Case(
        "conv1d with a negative kernel size",
        lambda: mgl.Conv1D(2, -3),
        ValueError,
        ("`kernel_size` must be a positive integer", "received -3"),
    ),
    Case(
        "conv1d window longer than the input",
        lambda: mgl.Conv1D(2, 5, name="conv")(np.ones((1, 3, 2))),
        ValueError,
        ("'conv'", "3 steps", "(1, 3, 2)", "padding='valid'"),
    ),
    Case(
        "built conv1d given another channel count",
        lambda: _built(mgl.Conv1D(2, 2, name="conv"), np.ones((1, 4, 3)))(np.ones((1, 4, 5))),
        ValueError,
        ("layer 'conv'", "expected axis 2 of input shape to have value 3", "(1, 4, 5)"),
    ),
    Case(
        "max pooling of zero steps",
        lambda: mgl.MaxPooling1D(pool_size=0),
        ValueError,
        ("`pool_size` must be a positive integer", "received 0"),
    ),
    Case(
        "average pooling given a matrix",
        lambda: mgl.AveragePooling1D(2, name="pool")(np.ones((2, 6))),
        ValueError,
        ("layer 'pool'", "expected ndim=3, found ndim=2", "(2, 6)"),
    ),
    Case(
        "batch normalization axis out of bounds",
        lambda: mgl.BatchNormalization(axis=3, name="bn")(np.ones((2, 4))),
        ValueError,
        ("'bn'", "axis 3 is out of bounds", "rank 2", "(2, 4)"),
    ),
    Case(
        "batch normalization with a mask of the input's rank",
        lambda: mgl.BatchNormalization(name="bn")(
            np.ones((2, 3, 4)), mask=np.ones((2, 3, 4), bool), training=True
        ),
        ValueError,
        ("'bn'", "one dimension less", "(2, 3, 4)"),
    ),
    Case(
        "layer normalization with a repeated axis",
        lambda: mgl.LayerNormalization(axis=[1, -1], name="ln")(np.ones((2, 4))),
        ValueError,
        ("'ln'", "repeated axis", "[1, -1]"),
    ),
    Case(
        "spatial dropout given a matrix",
        lambda: mgl.SpatialDropout1D(0.5, name="drop")(np.ones((2, 4))),
        ValueError,
        ("layer 'drop'", "expected ndim=3, found ndim=2"),
    ),
    Case(
        "attention called on one tensor",
        lambda: mgl.Attention(name="att")(np.ones((2, 3, 4))),
        ValueError,
        ("layer 'att'", "[query, value]", "one input of shape (2, 3, 4)"),
    ),
    Case(
        "attention with query and key features that differ",
        lambda: mgl.Attention(name="att")(
            [np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 5, 6))]
        ),
        ValueError,
        ("layer 'att'", "feature axes of query and key", "query (2, 3, 4)", "key (2, 5, 6)"),
    ),
    Case(
        "attention value mask of the wrong length",
        lambda: mgl.AdditiveAttention(name="att")(
            [np.ones((2, 3, 4)), np.ones((2, 5, 4))], mask=[None, np.ones((2, 4), bool)]
        ),
        ValueError,
        ("layer 'att'", "value mask", "(2, 5)", "received a mask of shape (2, 4)"),
    ),
    Case(
        "attention with an unknown score mode",
        lambda: mgl.Attention(score_mode="general"),
        ValueError,
        ("score_mode", "{'dot', 'concat'}", "'general'"),
    ),
    Case(
        "time distributed given a rank-2 input",
        lambda: mgl.TimeDistributed(mgl.Dense(2), name="td")(np.ones((2, 4))),
        ValueError,
        ("layer 'td'", "at least 3 dimensions (batch, time, ...)", "(2, 4)"),
    ),
    Case(
        "time distributed mask of the wrong length",
        lambda: mgl.TimeDistributed(mgl.Dense(2), name="td")(
            np.ones((2, 3, 4)), mask=np.ones((2, 5), bool)
        ),
        ValueError,
        ("layer 'td'", "(batch, time) = (2, 3)", "mask of shape (2, 5)"),
    ),
    Case(
        "time distributed around a non-layer",
        lambda: mgl.TimeDistributed(np.tanh),
        ValueError,
        ("Layer` instance", "ufunc"),
    ),
    Case(
        "config of a lambda layer holding a lambda expression",
        lambda: mgl.Lambda(lambda x: x * 2, name="double").get_config(),
        ValueError,
        ("Lambda layer 'double'", "named function", "custom Layer"),
    ),
    Case(
        "lambda layer whose function returns numpy",
        lambda: mgl.Lambda(np.tanh, name="np_tanh")(np.ones((2, 3))),
        TypeError,
        ("Lambda layer 'np_tanh'", "must return Tensors", "ndarray"),
    ),
    Case(
        "lambda layer given a function that is not callable",
        lambda: mgl.Lambda("tanh", name="lam"),
        TypeError,
        ("Lambda layer 'lam'", "must be callable", "'tanh'"),
    ),
]
