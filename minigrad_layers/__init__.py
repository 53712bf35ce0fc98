"""minigrad_layers: Keras-style layers, models and training on top of minigrad."""
