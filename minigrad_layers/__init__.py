"""minigrad_layers: Keras-style layers, models and training on top of minigrad."""

from minigrad_layers import callbacks, losses, metrics, optimizers  # noqa: F401  (modules)
