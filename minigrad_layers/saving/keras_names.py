"""The one table from minigrad_layers' built-in classes and functions to their Keras 3 names.

A config names a built-in by Keras 3's public path, so that Keras reads our files and we read
Keras'::

    Dense                  -> module "keras.layers",       class_name "Dense"
    GlorotUniform          -> module "keras.initializers", class_name "GlorotUniform"
    Adam                   -> module "keras.optimizers",   class_name "Adam"
    losses.mean_squared_error -> module "keras.losses", class_name "function",
                              config "mean_squared_error"
    Sequential             -> module "keras",              class_name "Sequential"
    a functional Model     -> module "keras.src.models.functional", class_name "Functional"

Every class exported by ``mgl.layers`` is a ``keras.layers`` class of the same name (so a layer
added there is covered). Reading, a module under ``keras.`` that is not in the table (a private
path such as ``keras.src.layers.rnn.lstm``) is matched by the class name alone, except the
operations of ``keras.src.ops`` (:mod:`keras_operations`).

>>> import minigrad_layers as mgl
>>> keras_name(mgl.LSTM), keras_name(mgl.initializers.Orthogonal)
(('keras.layers', 'LSTM'), ('keras.initializers', 'Orthogonal'))
>>> builtin("keras.optimizers", "Adam") is mgl.optimizers.Adam
True
"""

from __future__ import annotations

import functools
import inspect

from minigrad_layers.saving.keras_operations import operation

__all__ = ["FUNCTIONAL", "builtin", "from_keras_config", "keras_config", "keras_name"]

FUNCTIONAL = ("keras.src.models.functional", "Functional")

# Layer arguments Keras 3 lacks, left out of a built-in layer's saved config when at the value
# that changes nothing (``batch_input_shape`` always: a saved model records it in its InputLayer).
# At another value they are written: minigrad_layers reads the file back, Keras 3 refuses it
# naming the argument (never a model that computes something else)
_ABSENT_IN_KERAS_3 = {"time_major": False, "truncate_gradient": None, "checkpoint_every": None}

# Keras 3 arguments minigrad_layers lacks, accepted when reading at the value that changes nothing
_ONLY_IN_KERAS_3 = {
    "sparse": False,
    "ragged": False,
    "optional": False,
    "seed": None,
    "quantization_config": None,
    "lora_rank": None,
    "lora_alpha": None,
    "use_cudnn": "auto",
    "input_axes": None,
    "output_axes": None,
    "label_smoothing": 0.0,
    "axis": -1,
    "ignore_class": None,
    "dtype": "float32",
    "weight_decay": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class DTypePolicy:
    """Keras 3's dtype policy in a layer config, read as its dtype's name (``"float32"``)."""

    @classmethod
    def from_config(cls, config: dict) -> str:
        name = config.get("name")
        if not isinstance(name, str) or name.startswith("mixed_"):
            raise ValueError(f"Unsupported dtype policy {name!r}: expected a dtype name")
        return name


def _public_classes(module, base) -> dict:
    return {
        name: obj
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and isinstance(obj, type)
        and issubclass(obj, base)
        and obj.__module__ == module.__name__
    }


@functools.cache
def _table() -> dict[tuple[str, str], object]:
    """``(module, name) -> class or function`` (built on first use: it imports the package)."""
    from minigrad_layers import activations, constraints, initializers, layers, regularizers
    from minigrad_layers.engine.model import Model, Sequential
    from minigrad_layers.saving.keras_operations import OPERATIONS
    from minigrad_layers.training import losses, metrics, optimizers

    table: dict[tuple[str, str], object] = {("keras", "Sequential"): Sequential}
    table["keras", "DTypePolicy"] = DTypePolicy
    table[FUNCTIONAL] = Model
    table["keras", "Model"] = Model
    table.update(OPERATIONS)
    for name in layers.__all__:
        if isinstance(getattr(layers, name), type):
            table["keras.layers", name] = getattr(layers, name)
    groups = [
        ("keras.initializers", initializers, initializers.Initializer),
        ("keras.regularizers", regularizers, regularizers.Regularizer),
        ("keras.constraints", constraints, constraints.Constraint),
        ("keras.optimizers", optimizers, optimizers.Optimizer),
        ("keras.losses", losses, losses.Loss),
        ("keras.metrics", metrics, metrics.Metric),
    ]
    for keras_module, module, base in groups:
        for name, cls in _public_classes(module, base).items():
            table[keras_module, name] = cls
    functions = [
        ("keras.activations", list(activations._BY_NAME.values())),
        (
            "keras.losses",
            [
                losses.mean_squared_error,
                losses.mean_absolute_error,
                losses.binary_crossentropy,
                losses.categorical_crossentropy,
                losses.sparse_categorical_crossentropy,
            ],
        ),
        ("keras.metrics", [fn for fn, _ in metrics._BY_NAME.values()]),
    ]
    for keras_module, fns in functions:
        for fn in fns:
            table[keras_module, fn.__name__] = fn
    return table


@functools.cache
def _reverse() -> dict[object, tuple[str, str]]:
    reverse: dict[object, tuple[str, str]] = {}
    for key, obj in _table().items():
        reverse.setdefault(obj, key)  # Model: its functional name comes first
    return reverse


@functools.cache
def _by_name() -> dict[str, object]:
    by_name: dict[str, object] = {}
    for (module, name), obj in _table().items():
        if not module.startswith("keras.src.ops."):  # an operation is known by its module only
            by_name.setdefault(name, obj)
    return by_name


def keras_name(obj) -> tuple[str, str] | None:
    """``(module, name)`` of a built-in class or function, ``None`` for anything else (a
    subclass of a built-in is not a built-in)."""
    try:
        return _reverse().get(obj)
    except TypeError:  # unhashable
        return None


def keras_config(config: dict) -> dict:
    """A built-in layer's config without the arguments Keras 3 lacks, where they are neutral."""
    return {
        key: value
        for key, value in config.items()
        if key != "batch_input_shape"
        and not (key in _ABSENT_IN_KERAS_3 and value == _ABSENT_IN_KERAS_3[key])
    }


def from_keras_config(cls, config: dict) -> dict:
    """A built-in's config without the Keras 3 arguments its class lacks, where neutral (others
    stay, so the constructor rejects them by name)."""
    accepted = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            accepted.update(inspect.signature(klass.__init__).parameters)
    return {
        key: value
        for key, value in config.items()
        if key in accepted or not (key in _ONLY_IN_KERAS_3 and value == _ONLY_IN_KERAS_3[key])
    }


def builtin(module: str | None, name: str):
    """The built-in class or function Keras 3 calls ``module.name``, else ``None`` (a Keras
    operation, module ``keras.src.ops...``, is looked up by its module too, or a ValueError)."""
    if isinstance(module, str) and module.startswith("keras.src.ops."):
        return operation(module, name)
    found = _table().get((module, name))
    if found is None and (module in (None, "keras", "builtins") or module.startswith("keras.")):
        found = _by_name().get(name)
    return found
