"""A model's config, JSON and ``.keras`` file (mixed into ``Model``; Keras 3 semantics).

* ``get_config``: a functional model's graph config (``model_config``); a subclassed model's
  constructor arguments (its own ``get_config``, as for any layer);
* ``from_config(config, custom_objects=None)``: the model rebuilt from it (new weights);
* ``get_build_config``/``build_from_config``: a subclassed model is rebuilt by running it once
  on zeros of the input shape it was built with (size 1 where unknown), creating its weights;
* ``get_compile_config``/``compile_from_config``: the optimizer (with its settings), loss,
  loss weights and metrics given to ``compile``;
* ``to_json()``, and ``save(path)`` for a ``.keras`` file (``saving.model_file``).
"""

from __future__ import annotations

import json

import numpy as np

import minigrad as mg
from minigrad_layers.engine.layer import Layer, _as_shapes
from minigrad_layers.engine.model_config import functional_config, functional_from_config
from minigrad_layers.saving.registry import custom_object_scope

__all__ = ["ModelSaving"]

# compile() arguments of Keras 3 that change nothing in what minigrad_layers computes
_IGNORED_COMPILE_ARGS = ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss")


class ModelSaving:
    """Config, JSON and file methods of ``Model``."""

    def _has_functional_config(self) -> bool:
        """A graph model whose constructor is ``Model``'s own (Keras' functional-like test)."""
        from minigrad_layers.engine.model import Model

        return self._is_graph_network and type(self).__init__ is Model.__init__

    def get_config(self) -> dict:
        if self._has_functional_config():
            return functional_config(self)
        return Layer.get_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        with custom_object_scope(custom_objects):
            if "layers" in config and "input_layers" in config:
                return functional_from_config(cls, dict(config))
            return cls(**config)

    def get_build_config(self) -> dict | None:
        if self._is_graph_network:
            return None  # rebuilt with its graph
        return Layer.get_build_config(self)

    def build_from_config(self, config: dict) -> None:
        shapes = _as_shapes(config["input_shape"])
        if type(self).build is not Layer.build:
            self.build(shapes)
            return

        def zeros(shape):
            if isinstance(shape, list):
                return [zeros(s) for s in shape]
            return mg.tensor(np.zeros([1 if d is None else d for d in shape], mg.floatx()))

        self(zeros(shapes))

    def get_compile_config(self) -> dict | None:
        if not getattr(self, "compiled", False):
            return None
        return {"optimizer": self.optimizer, **self._compile_args}

    def compile_from_config(self, config: dict) -> None:
        from minigrad_layers.saving.serialization import deserialize_keras_object

        config = dict(config)
        weighted = config.pop("weighted_metrics", None)
        if weighted:
            raise ValueError(
                f"Model {self.name!r}: the saved compile() arguments set "
                f"weighted_metrics={weighted!r}, which minigrad_layers does not support"
            )
        for key in _IGNORED_COMPILE_ARGS:
            config.pop(key, None)
        self.compile(**deserialize_keras_object(config))

    def to_json(self, **kwargs) -> str:
        """The model's config (``saving.serialize_keras_object``) as a JSON string;
        ``mgl.models.model_from_json`` rebuilds the model from it."""
        from minigrad_layers.saving.serialization import serialize_keras_object

        return json.dumps(serialize_keras_object(self), **kwargs)

    def save(self, filepath, overwrite: bool = True) -> None:
        """Save the whole model (config, weights, optimizer state) to a ``.keras`` file."""
        from minigrad_layers.saving.model_file import save_model

        save_model(self, filepath, overwrite=overwrite)
