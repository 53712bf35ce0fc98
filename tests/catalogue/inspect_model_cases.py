"""Bad inputs to trace_bptt in a model: which layer to trace, in which model, with what."""

import numpy as np

import minigrad as mg
import minigrad_layers as mgl
from catalogue.case import Case

IDS = np.array([[1, 2, 0], [3, 1, 2]])
X = np.ones((1, 3, 2))


def _model():
    return mgl.Sequential(
        [mgl.Input((3,)), mgl.Embedding(5, 2, mask_zero=True), mgl.LSTM(2, name="lstm")]
    )


def _loss(out):
    return mg.sum(out)


def _bidirectional_model():
    inputs = mgl.Input((3, 2))
    return mgl.Model(inputs, mgl.Bidirectional(mgl.GRU(2, name="gru"), name="bi")(inputs))


def _trace():
    return mgl.inspect.trace_bptt(mgl.SimpleRNN(2), X, _loss)


CASES = [
    Case(
        "trace_bptt of a layer name missing from the model",
        lambda: mgl.inspect.trace_bptt("gru", IDS, _loss, model=_model()),
        ValueError,
        ("no layer named 'gru'", "recurrent layers are ['lstm']"),
    ),
    Case(
        "trace_bptt of a whole Bidirectional",
        lambda: mgl.inspect.trace_bptt(
            "bi", np.ones((1, 3, 2)), _loss, model=_bidirectional_model()
        ),
        TypeError,
        ("Bidirectional 'bi'", "layer='forward_gru'", "layer='backward_gru'"),
    ),
    Case(
        "trace_bptt of a layer that is not in the model",
        lambda: mgl.inspect.trace_bptt(mgl.GRU(2, name="gru"), IDS, _loss, model=_model()),
        ValueError,
        ("layer 'gru'", "not a layer of"),
    ),
    Case(
        "trace_bptt in a model, with a mask",
        lambda: mgl.inspect.trace_bptt("lstm", IDS, _loss, mask=IDS > 0, model=_model()),
        ValueError,
        ("the model calls 'lstm'", "mask cannot be given"),
    ),
    Case(
        "trace_bptt with targets for an uncompiled model",
        lambda: mgl.inspect.trace_bptt("lstm", IDS, np.zeros((2, 2)), model=_model()),
        ValueError,
        ("targets were given", "no compiled loss", "loss_fn"),
    ),
    Case(
        "trace jacobian by an unknown method",
        lambda: _trace().jacobian(0, method="svd"),
        ValueError,
        ("'auto' or 'tape'", "received 'svd'"),
    ),
]
