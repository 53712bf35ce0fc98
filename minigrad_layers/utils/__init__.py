"""Helpers reached as ``mgl.utils.<name>`` (Keras' ``keras.utils``): data preparation
(``to_categorical``, ``pad_sequences``, ``timeseries_dataset_from_array``) and
``set_random_seed``; ``conv_utils`` holds the convolution layers' length arithmetic."""

from minigrad_layers.utils.categorical import to_categorical
from minigrad_layers.utils.random_seed import set_random_seed
from minigrad_layers.utils.sequences import pad_sequences
from minigrad_layers.utils.timeseries import timeseries_dataset_from_array

__all__ = [
    "pad_sequences",
    "set_random_seed",
    "timeseries_dataset_from_array",
    "to_categorical",
]
