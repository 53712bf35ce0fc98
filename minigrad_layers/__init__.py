"""minigrad_layers: Keras-style layers, models and training on top of minigrad."""

from minigrad_layers import (  # noqa: F401  (modules)
    activations,
    callbacks,
    initializers,
    inspect,
    layers,
    losses,
    metrics,
    optimizers,
)
from minigrad_layers.core import Activation, Dense, Dropout, Embedding, Masking  # noqa: F401
from minigrad_layers.functional import Input  # noqa: F401
from minigrad_layers.layer import Layer  # noqa: F401
from minigrad_layers.merge import Add, Concatenate  # noqa: F401
from minigrad_layers.model import Model, Sequential  # noqa: F401
from minigrad_layers.naming import clear_session  # noqa: F401
from minigrad_layers.rnn import (  # noqa: F401
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
from minigrad_layers.tensor_shape import TensorShape  # noqa: F401
