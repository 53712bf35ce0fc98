"""``compile(loss=..., loss_weights=...)`` resolved against a model's outputs (Keras semantics).

The training loss of a model with outputs ``o_1 .. o_n`` and targets ``y_1 .. y_n`` is::

    loss = sum_k  w_k * loss_k(y_k, o_k, sample_weight)  +  sum(model.losses)

* ``loss``: one loss for every output, a list with one per output, or a dict keyed by output
  name (an output missing from the dict gets no loss: it is predicted, not trained);
* ``loss_weights`` ``w_k``: None (all 1), a list, or a dict keyed by output name;
* ``model.losses``: the regularization and ``add_loss`` terms of its layers.

With several outputs each term is also reported on its own, as ``"<output name>_loss"``.
"""

from __future__ import annotations

import minigrad as mg
from minigrad_layers.training import losses as losses_module


class CompiledLoss:
    """The per-output losses and weights of ``compile``, checked against the output names the
    first time the model runs (the names are known only then)."""

    def __init__(self, loss, loss_weights=None):
        if isinstance(loss, dict):
            self._given = {name: losses_module.get(spec) for name, spec in loss.items()}
        elif isinstance(loss, list | tuple):
            self._given = [losses_module.get(spec) for spec in loss]
        else:
            self._given = losses_module.get(loss)
        self._weights_given = loss_weights
        self.losses: list | None = None  # one Loss (or None) per output, once built
        self.weights: list[float] | None = None
        self.names: list[str] = []

    @property
    def single(self):
        """The one loss given for every output (None when a list or dict was given)."""
        return None if isinstance(self._given, dict | list) else self._given

    def build(self, output_names: list[str]) -> None:
        """Match the given losses and weights to the outputs, by position or by name."""
        n = len(output_names)
        self.names = list(output_names)
        self.losses = self._per_output(self._given, "loss", default=None)
        if all(loss is None for loss in self.losses):
            raise ValueError(f"compile(loss=...) gives no loss for any output of {self.names}")
        weights = self._weights_given
        self.weights = (
            [1.0] * n if weights is None else self._per_output(weights, "loss_weights", 1.0)
        )
        for name, w in zip(self.names, self.weights, strict=True):
            if isinstance(w, bool) or not isinstance(w, int | float):
                raise TypeError(
                    f"loss_weights: the weight of output {name!r} must be a number, received {w!r}"
                )

    def _per_output(self, given, what: str, default):
        n = len(self.names)
        if isinstance(given, dict):
            unknown = sorted(set(given) - set(self.names))
            if unknown:
                raise ValueError(
                    f"compile({what}=...) names outputs {unknown} that the model does not have; "
                    f"its outputs are {self.names}"
                )
            return [given.get(name, default) for name in self.names]
        if isinstance(given, list | tuple):
            if len(given) != n:
                raise ValueError(
                    f"compile({what}=...) gives {len(given)} entries for a model with {n} "
                    f"output(s) {self.names}; give one per output, or a dict keyed by name"
                )
            return list(given)
        return [given] * n

    def __call__(self, ys: list, outputs: list, sample_weight=None) -> tuple[mg.Tensor, list]:
        """``(total, per_output)``: the weighted sum, and each output's unweighted loss (None
        for an output without one)."""
        if self.losses is None:
            self.build([f"output_{i + 1}" for i in range(len(outputs))])
        if len(ys) != len(outputs):
            raise ValueError(
                f"The model has {len(outputs)} output(s) {self.names} but y holds {len(ys)} "
                "array(s); pass one target array per output (a list, or a dict keyed by name)"
            )
        total, per_output = None, []
        for k, (loss, w, y, out) in enumerate(
            zip(self.losses, self.weights, ys, outputs, strict=True)
        ):
            if loss is None:
                per_output.append(None)
                continue
            try:
                value = loss(y, out, sample_weight=sample_weight)
            except ValueError as error:
                raise ValueError(
                    f"Target {k} (shape {getattr(y, 'shape', None)}) does not fit output "
                    f"{self.names[k]!r} (shape {out.shape}): {error}"
                ) from None
            per_output.append(value)
            term = value if w == 1.0 else value * w
            total = term if total is None else total + term
        return total, per_output
