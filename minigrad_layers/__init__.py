"""minigrad_layers: Keras-style layers, models and training on top of minigrad.

Every layer class is defined in its own module and gathered in ``minigrad_layers.layers``; the
top level re-exports them (``mgl.LSTM is mgl.layers.LSTM``) with models, shapes and the modules.
"""

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
from minigrad_layers.layers import (  # noqa: F401
    GRU,
    LSTM,
    RNN,
    Activation,
    Add,
    Bidirectional,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    GRUCell,
    Input,
    Layer,
    LSTMCell,
    Masking,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
)
from minigrad_layers.model import Model, Sequential  # noqa: F401
from minigrad_layers.naming import clear_session  # noqa: F401
from minigrad_layers.tensor_shape import TensorShape  # noqa: F401
