"""Every layer class under one name, as ``keras.layers``: ``mgl.layers.Layer``,
``mgl.layers.LSTM``, ... (the same classes as ``mgl.Layer``, ``mgl.LSTM``).

>>> import minigrad_layers as mgl
>>> mgl.layers.Dense is mgl.Dense
True
"""

from minigrad_layers.engine.input_layer import Input, InputLayer
from minigrad_layers.engine.layer import Layer
from minigrad_layers.layers.attention import AdditiveAttention, Attention
from minigrad_layers.layers.convolutional import Conv1D
from minigrad_layers.layers.core import Activation, Dense, Dropout, Embedding, Masking
from minigrad_layers.layers.lambda_layer import Lambda
from minigrad_layers.layers.merge import Add, Average, Concatenate, Dot, Multiply
from minigrad_layers.layers.normalization import BatchNormalization, LayerNormalization
from minigrad_layers.layers.pooling import (
    AveragePooling1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from minigrad_layers.layers.regularization import SpatialDropout1D
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
    "AveragePooling1D",
    "BatchNormalization",
    "Bidirectional",
    "Concatenate",
    "Conv1D",
    "Dense",
    "Dot",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "GRUCell",
    "Input",
    "InputLayer",
    "LSTMCell",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "MaxPooling1D",
    "Masking",
    "Multiply",
    "Permute",
    "RepeatVector",
    "Reshape",
    "SimpleRNN",
    "SimpleRNNCell",
    "SpatialDropout1D",
    "StackedRNNCells",
    "TimeDistributed",
]
