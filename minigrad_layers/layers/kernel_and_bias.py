"""The ``kernel`` and ``bias`` of a layer that has them (Dense, Conv1D): their seven Keras
arguments, their creation in Keras' order, and their part of the config."""

from __future__ import annotations

from minigrad_layers import constraints, initializers, regularizers

__all__ = ["add_kernel_and_bias", "kernel_and_bias_config", "set_kernel_and_bias_options"]

_OPTIONS = (
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "bias_constraint",
)


def set_kernel_and_bias_options(
    layer,
    use_bias,
    kernel_initializer,
    bias_initializer,
    kernel_regularizer,
    bias_regularizer,
    kernel_constraint,
    bias_constraint,
) -> None:
    """``layer.use_bias`` and the ``<kernel|bias>_<initializer|regularizer|constraint>``
    attributes, each resolved from a name, a config or an object."""
    layer.use_bias = bool(use_bias)
    layer.kernel_initializer = initializers.get(kernel_initializer)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.kernel_constraint = constraints.get(kernel_constraint)
    layer.bias_constraint = constraints.get(bias_constraint)


def add_kernel_and_bias(layer, kernel_shape: tuple, bias_size: int) -> None:
    """``layer.kernel`` of ``kernel_shape`` and ``layer.bias`` ``(bias_size,)`` (None when
    ``layer.use_bias`` is False), in Keras' creation order, with the layer's options."""
    layer.kernel = layer.add_weight(
        "kernel",
        kernel_shape,
        layer.kernel_initializer,
        regularizer=layer.kernel_regularizer,
        constraint=layer.kernel_constraint,
    )
    layer.bias = None
    if layer.use_bias:
        layer.bias = layer.add_weight(
            "bias",
            (bias_size,),
            layer.bias_initializer,
            regularizer=layer.bias_regularizer,
            constraint=layer.bias_constraint,
        )


def kernel_and_bias_config(layer) -> dict:
    """``use_bias`` and the six options, as ``get_config`` gives them."""
    return {"use_bias": layer.use_bias, **{name: getattr(layer, name) for name in _OPTIONS}}
