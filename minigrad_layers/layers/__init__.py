"""Every layer class under one name, as ``keras.layers``: ``mgl.layers.Layer``,
``mgl.layers.LSTM``, ... (the same classes as ``mgl.Layer``, ``mgl.LSTM``).

>>> import minigrad_layers as mgl
>>> mgl.layers.Dense is mgl.Dense
True
"""

from minigrad_layers.engine.input_layer import Input, InputLayer
from minigrad_layers.engine.layer import Layer
from minigrad_layers.layers.attention import AdditiveAttention, Attention
from minigrad_layers.layers.core import Activation, Dense, Dropout, Embedding, Masking
from minigrad_layers.layers.lambda_layer import Lambda
from minigrad_layers.layers.merge import Add, Average, Concatenate, Dot, Multiply
from minigrad_layers.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from minigrad_layers.layers.rnn import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
)
from minigrad_layers.layers.wrappers import TimeDistributed

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Activation",
    "Add",
    "AdditiveAttention",
    "Attention",
    "Average",
    "Bidirectional",
    "Concatenate",
    "Dense",
    "Dot",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRUCell",
    "Input",
    "InputLayer",
    "LSTMCell",
    "Lambda",
    "Layer",
    "Masking",
    "Multiply",
    "Permute",
    "RepeatVector",
    "Reshape",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "TimeDistributed",
]
