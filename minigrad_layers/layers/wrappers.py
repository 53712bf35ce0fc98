"""TimeDistributed: apply one layer, with one set of weights, to every time step of a sequence.

(``Bidirectional``, the other Keras wrapper, lives with the recurrent layers in
``rnn/bidirectional.py``.)

>>> import numpy as np, minigrad_layers as mgl
>>> layer = mgl.TimeDistributed(mgl.Dense(3))
>>> layer(np.ones((2, 5, 4))).shape, layer.layer.kernel.shape
((2, 5, 3), (4, 3))
"""

from __future__ import annotations

import minigrad as mg
from minigrad_layers.engine.functional import is_shape
from minigrad_layers.engine.input_spec import InputSpec
from minigrad_layers.engine.layer import Layer

__all__ = ["TimeDistributed"]


class TimeDistributed(Layer):
    """``(batch, time, *step_shape) -> (batch, time, *out_shape)`` with ``out[:, t] =
    layer(x[:, t])`` for every ``t`` (tf.keras 2 semantics).

    How it runs: a built-in layer that keeps no state between calls treats the rows of a batch
    independently, so time is folded into the batch and the layer runs once on ``(batch · time,
    *step_shape)``; any other layer (a custom one, or one holding a stateful RNN, whose kept
    states are one row per sample) is called once per time step and the results are stacked.
    Both give the same values; the gradients of the shared weights add up over the steps.

    Masks: ``mask`` is ``(batch, time, ...)``. The layer receives its slices (``(batch · time,
    ...)`` folded, ``mask[:, t]`` per step) when its ``call`` takes a mask. The output mask is
    the inner layer's own output mask over the time steps (``Embedding(mask_zero=True)``,
    ``Masking``, a sequence-returning RNN); when it makes none, the input mask reduced to
    ``(batch, time)`` with ``any`` over its other axes; ``None`` without either (tf.keras 2's
    rule, here for both ways of running).

    ``get_config()["layer"]`` is an unbuilt copy of the inner layer (made from its config), as
    in ``Bidirectional``; ``from_config`` copies it again, so no two wrappers share a layer.
    The inner layer's weights are this layer's weights, named ``<name>/<layer name>/...``.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `mgl.layers.Layer` instance. "
                f"Received: {layer!r} of type {type(layer).__name__}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    # -- shapes --------------------------------------------------------------------------------
    def _step_shape(self, input_shape) -> tuple:
        """``(batch, time, *rest) -> (batch, *rest)``: the shape the inner layer sees."""
        if not is_shape(input_shape):
            raise ValueError(
                f"TimeDistributed layer {self.name!r} takes one input, received a list of "
                f"{len(input_shape)} inputs"
            )
        if len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed layer {self.name!r} should be passed an input with at least 3 "
                f"dimensions (batch, time, ...), received input shape {tuple(input_shape)}"
            )
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape) -> None:
        step_shape = self._step_shape(input_shape)
        self.input_spec = InputSpec(shape=(None, None, *step_shape[1:]))
        if not self.layer.built:
            self.layer.build(step_shape)  # inside this build: weights named "<name>/<layer>/..."

    def compute_output_shape(self, input_shape):
        step_output = self._one_output(
            self.layer.compute_output_shape(self._step_shape(input_shape))
        )
        return (step_output[0], input_shape[1], *step_output[1:])

    def _one_output(self, output):
        """``output`` (a Tensor or a shape) when the inner layer gave one, else a ValueError."""
        if isinstance(output, mg.Tensor) or is_shape(output):
            return output
        raise ValueError(
            f"TimeDistributed layer {self.name!r} wraps layers with one output, but layer "
            f"{self.layer.name!r} returned {type(output).__name__} of {len(output)} outputs"
        )

    # -- running the layer over time -----------------------------------------------------------
    def _folds(self) -> bool:
        """Whether the inner layer may see time folded into the batch: every layer in it is a
        built-in one and none keeps states between calls."""
        layers = self.layer._flatten_layers()
        return all(type(x).__module__.startswith("minigrad_layers.") for x in layers) and not any(
            getattr(x, "stateful", False) for x in layers
        )

    def _over_time(self, step_fn, inputs, mask):
        """``step_fn(x_t, mask_t)`` for every time step, as one Tensor ``(batch, time, ...)``
        (None when ``step_fn`` returns None): one call on the folded batch when the inner layer
        allows it, else one call per step."""
        batch, steps = inputs.shape[:2]
        if self._folds():

            def fold(t):  # (batch, time, ...) -> (batch · time, ...)
                return None if t is None else mg.reshape(t, (batch * steps, *t.shape[2:]))

            result = step_fn(fold(inputs), fold(mask))
            if result is None:
                return None
            return mg.reshape(result, (batch, steps, *result.shape[1:]))  # (batch, time, ...)
        results = [
            step_fn(inputs[:, t], None if mask is None else mask[:, t]) for t in range(steps)
        ]
        if not results or any(r is None for r in results):
            return None
        return mg.stack(results, axis=1)  # (batch, time, ...)

    def _check_mask(self, inputs, mask) -> None:
        if mask is not None and (mask.ndim < 2 or mask.shape[:2] != inputs.shape[:2]):
            raise ValueError(
                f"The mask passed to TimeDistributed layer {self.name!r} must start with the "
                f"input's (batch, time) = {inputs.shape[:2]}; received a mask of shape "
                f"{mask.shape} for an input of shape {inputs.shape}"
            )

    def call(self, inputs, training=None, mask=None):
        self._check_mask(inputs, mask)
        if inputs.shape[1] == 0:
            raise ValueError(
                f"TimeDistributed layer {self.name!r} needs at least one time step, received "
                f"an input of shape {inputs.shape}"
            )
        kwargs = {} if training is None else {"training": training}

        def step(x_t, mask_t):
            if mask_t is not None:
                kwargs["mask"] = mask_t
            return self._one_output(self.layer(x_t, **kwargs))

        return self._over_time(step, inputs, mask)

    def compute_mask(self, inputs, mask=None):
        output_mask = self._over_time(self.layer.compute_mask, inputs, mask)
        if output_mask is not None or mask is None:
            return output_mask
        keep = mask.numpy()
        return mg.tensor(keep.reshape(keep.shape[:2] + (-1,)).any(axis=-1))  # (batch, time)

    # -- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        return {**super().get_config(), "layer": _unbuilt_copy(self.layer)}

    @classmethod
    def from_config(cls, config: dict):
        """A new wrapper from :meth:`get_config`; the inner layer is copied, never shared."""
        return cls(**{**config, "layer": _unbuilt_copy(config["layer"])})


def _unbuilt_copy(layer: Layer) -> Layer:
    """A fresh, unbuilt layer made from ``layer``'s config (same name, new weights)."""
    return type(layer).from_config(layer.get_config())
