"""What a layer adds to the training loss: ``add_loss``, weight regularizers, the activity
regularizer, and the constraints applied after each optimizer step (Keras semantics).

``layer.losses`` is, for this layer and every sub-layer (cells, wrapped layers, a model's
layers): the terms given to ``add_loss`` during its last call, its ``activity_regularizer`` of
its last output, and ``regularizer(weight)`` for each regularized weight, recomputed from the
weight's current value at each read (so inside a training step's tape it has a gradient)::

    SimpleRNN(2, kernel_regularizer="l2", recurrent_regularizer="l2", bias_regularizer="l2")
    -> len(layer.losses) == 3        (after the layer is built)
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad_layers import constraints as constraints_module
from minigrad_layers import regularizers as regularizers_module


class LayerLosses:
    """Mixed into ``Layer``; keeps its bookkeeping in ``__dict__`` (never tracked as layers)."""

    def _init_losses(self, activity_regularizer) -> None:
        self.__dict__.update(
            _added_losses=[],
            _weight_regularizers=[],  # (weight, regularizer)
            _weight_constraints=[],  # (weight, constraint)
            activity_regularizer=regularizers_module.get(activity_regularizer),
        )

    def add_loss(self, loss) -> None:
        """Add a scalar term to the training loss (kept until this layer's next call)."""
        loss = loss if isinstance(loss, mg.Tensor) else mg.tensor(np.asarray(loss, np.float64))
        if loss.size != 1:
            raise ValueError(
                f"Layer {self.name!r}: add_loss expects a scalar, received shape {loss.shape}"
            )
        self.__dict__["_added_losses"].append(mg.reshape(loss, ()))

    def _regularize(self, weight, regularizer, constraint) -> None:
        """Record the regularizer and constraint of a weight ``add_weight`` just made."""
        regularizer = regularizers_module.get(regularizer)
        constraint = constraints_module.get(constraint)
        if regularizer is not None:
            self.__dict__["_weight_regularizers"].append((weight, regularizer))
        if constraint is not None:
            self.__dict__["_weight_constraints"].append((weight, constraint))

    @property
    def losses(self) -> list[mg.Tensor]:
        """The loss terms of this layer and its sub-layers (see the module docstring)."""
        terms = []
        for layer in self._flatten_layers():
            terms.extend(layer.__dict__.get("_added_losses", ()))
            for weight, regularizer in layer.__dict__.get("_weight_regularizers", ()):
                terms.append(mg.reshape(regularizer(weight), ()))
        return terms

    def _start_call_losses(self) -> None:
        self.__dict__["_added_losses"] = []

    def _add_activity_loss(self, outputs) -> None:
        regularizer = self.__dict__.get("activity_regularizer")
        if regularizer is None:
            return
        for out in mg.nest.flatten(outputs):
            if isinstance(out, mg.Tensor) and out.dtype.kind == "f":
                batch = out.shape[0] if out.ndim else 1
                self.add_loss(regularizer(out) / batch)  # per sample, as Keras divides

    def _apply_constraints(self) -> None:
        """Project every constrained weight of this layer and its sub-layers."""
        for layer in self._flatten_layers():
            for weight, constraint in layer.__dict__.get("_weight_constraints", ()):
                weight.assign(np.asarray(constraint(weight.numpy()), dtype=weight.dtype))

    @property
    def trainable_variables(self):
        """Keras 3's name for ``trainable_weights``."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        """Keras 3's name for ``non_trainable_weights``."""
        return self.non_trainable_weights
