"""Tracing a recurrent layer where it runs: inside a model.

``trace_bptt(layer, x, loss_fn, model=model)`` runs the whole ``model`` on its input ``x`` under
the tape, with the step recorder attached to one recurrent ``layer`` of it (the object, or its
name). Everything the layer sees then comes from the model: its input (e.g. embeddings), its mask
(``Embedding(mask_zero=True)``, ``Masking``), and the gradients flowing back from the layers
after it. Which layer:

* an ``RNN`` (``SimpleRNN``, ``LSTM``, ``GRU``, ``RNN`` of stacked cells, whose states are then
  nested one entry per cell, as always);
* one direction of a ``Bidirectional``: its ``forward_layer`` or ``backward_layer``, or their
  names ``"forward_<name>"`` / ``"backward_<name>"``; each direction is its own trace (the
  backward one counts steps in its processing order, from the last input position).

``loss_fn`` maps what the model returns to a scalar Tensor; or, instead of a function, the
targets ``y``: the loss is then the one the model was compiled with (masked steps left out and
the layers' regularization losses added, exactly as ``fit`` computes it).

>>> import numpy as np, minigrad as mg, minigrad_layers as mgl
>>> model = mgl.Sequential([mgl.Input((6,)), mgl.Embedding(10, 3, mask_zero=True),
...                         mgl.LSTM(4, return_sequences=True, name="lstm"), mgl.Dense(1)])
>>> model.compile(loss="mse")
>>> ids = np.array([[3, 1, 4, 1, 0, 0], [5, 9, 2, 6, 5, 3]])
>>> trace = mgl.inspect.trace_bptt("lstm", ids, np.ones((2, 6, 1)), model=model)
>>> trace.steps, trace.layer.name, trace.state_grads[5][0].shape
(6, 'lstm', (2, 4))
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.nest import flatten
from minigrad_layers.engine.layer import Layer
from minigrad_layers.layers.rnn.base import RNN
from minigrad_layers.layers.rnn.bidirectional import Bidirectional


def find_recurrent_layer(model, layer) -> RNN:
    """The recurrent layer ``layer`` (an object or a name) among ``model`` and its sub-layers."""
    if not isinstance(model, Layer):
        raise TypeError(
            f"trace_bptt: model must be a Model or Layer, received {type(model).__name__}"
        )
    candidates = model._flatten_layers()
    if isinstance(layer, str):
        named = [c for c in candidates if c.name == layer]
        if not named:
            names = [c.name for c in candidates if isinstance(c, RNN | Bidirectional)]
            raise ValueError(
                f"trace_bptt: no layer named {layer!r} in {model.name!r}; its recurrent layers "
                f"are {names}"
            )
        layer = named[0]
    elif not any(c is layer for c in candidates):
        name = getattr(layer, "name", type(layer).__name__)
        raise ValueError(f"trace_bptt: layer {name!r} is not a layer of {model.name!r}")
    if isinstance(layer, Bidirectional):
        raise TypeError(
            f"trace_bptt: Bidirectional {layer.name!r} runs two recurrent layers: trace one "
            f"direction at a time, layer={layer.forward_layer.name!r} or "
            f"layer={layer.backward_layer.name!r}"
        )
    if not isinstance(layer, RNN):
        raise TypeError(
            f"trace_bptt expects a recurrent layer (RNN, SimpleRNN, LSTM, GRU), received "
            f"{type(layer).__name__} {layer.name!r}"
        )
    return layer


def check_model_call(layer: RNN, model, mask, initial_state, constants) -> None:
    """With a model, the model calls the layer: it alone passes masks, states and constants."""
    given = [
        name
        for name, value in [
            ("mask", mask),
            ("initial_state", initial_state),
            ("constants", constants),
        ]
        if value is not None
    ]
    if given:
        raise ValueError(
            f"trace_bptt: with model={model.name!r}, the model calls {layer.name!r}, so "
            f"{', '.join(given)} cannot be given; masks come from the model's own layers "
            "(Embedding(mask_zero=True), Masking)"
        )


def compiled_loss_fn(model, y):
    """``loss_fn`` for the targets ``y``: the model's compiled loss of its outputs against
    ``y``, plus the layers' regularization losses (as in ``fit``)."""
    if not getattr(model, "compiled", False) or getattr(model, "loss", None) is None:
        raise ValueError(
            f"trace_bptt: targets were given for model {model.name!r}, which has no compiled "
            "loss; compile it first (model.compile(loss='mse')) or pass a loss_fn"
        )
    targets = [np.asarray(t) for t in flatten(y)]

    def loss_fn(output):
        outputs = output if isinstance(output, list | tuple) else [output]
        total, _ = model._compute_loss(targets, list(outputs))
        return total

    return loss_fn


def as_input_tensors(x):
    """``x`` (an array, a Tensor, or a list or dict of them) with every leaf a Tensor."""
    if isinstance(x, dict):
        return {key: as_input_tensors(value) for key, value in x.items()}
    if isinstance(x, list | tuple):
        return [as_input_tensors(value) for value in x]
    return x if isinstance(x, mg.Tensor) else mg.tensor(x)
