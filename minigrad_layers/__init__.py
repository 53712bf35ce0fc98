"""minigrad_layers: Keras-style layers, models and training on top of minigrad.

The package is laid out by concept, lowest first:

* ``engine/``: the ``Layer`` lifecycle, symbolic tensors and the functional graph, ``Model`` and
  ``Sequential``, layer naming, ``TensorShape``;
* ``layers/``: every layer (``core``, ``merge``, and ``rnn/``, the recurrent layers), gathered in
  ``minigrad_layers.layers`` as ``keras.layers`` gathers them;
* ``training/``: ``fit``/``evaluate``/``predict`` (``trainer``), callbacks, losses, metrics and
  optimizers;
* ``saving/``: weights files (Keras 3's ``.weights.h5``), crash-safe writes;
* ``inspect/``: BPTT study tools that read a tape (nothing else in the package imports them).

The top level re-exports the layer classes (``mgl.LSTM is mgl.layers.LSTM``), the models, and
the modules users reach by their Keras names (``mgl.optimizers``, ``mgl.losses``, ...).
"""

from minigrad_layers import (  # noqa: F401  # noqa: F401, E402
    activations,
    constraints,
    initializers,
    inspect,
    interop,
    layers,
    models,
    regularizers,
    saving,
    utils,
)
from minigrad_layers.engine.input_spec import InputSpec  # noqa: F401
from minigrad_layers.engine.masks import get_keras_mask, set_keras_mask  # noqa: F401
from minigrad_layers.engine.model import Model, Sequential  # noqa: F401
from minigrad_layers.engine.naming import clear_session  # noqa: F401
from minigrad_layers.engine.tensor_shape import TensorShape  # noqa: F401
from minigrad_layers.layers import (  # noqa: F401
    GRU,
    LSTM,
    RNN,
    Activation,
    Add,
    AdditiveAttention,
    Attention,
    Average,
    AveragePooling1D,
    BatchNormalization,
    Bidirectional,
    Concatenate,
    Conv1D,
    Dense,
    Dot,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    GRUCell,
    Input,
    Lambda,
    Layer,
    LayerNormalization,
    LSTMCell,
    Masking,
    MaxPooling1D,
    Multiply,
    Permute,
    RepeatVector,
    Reshape,
    SimpleRNN,
    SimpleRNNCell,
    SpatialDropout1D,
    StackedRNNCells,
    TimeDistributed,
)
from minigrad_layers.training import callbacks, losses, metrics, optimizers  # noqa: F401
