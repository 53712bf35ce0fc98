r"""InputSpec: what a layer accepts as input, checked before every call (tf.keras 2 semantics).

A layer sets ``self.input_spec`` (usually in ``build``, once it knows its weights' shapes) to an
:class:`InputSpec`, or to a list of them (one per input). ``Layer.__call__`` then runs
:func:`assert_input_compatibility` before ``call``, on concrete and symbolic inputs alike, so a
Dense built for 4 features called with 5 fails with a message that names the layer, the input,
the expected size and the shape received, instead of an error from deep inside a matmul.

Each field constrains the input's rank or sizes; ``None`` sizes (unknown, in symbolic inputs)
match anything:

* ``ndim``: the exact rank (``shape`` sets it to ``len(shape)``); ``min_ndim``, ``max_ndim``;
* ``shape``: the sizes, ``None`` = any (``(None, None, 3)``: any batch, any length, 3 features);
* ``axes``: ``{axis: size}`` for some axes only (``{-1: 4}``: the last axis has 4 entries);
* ``dtype``: the dtype name the input must have.

>>> import minigrad as mg, minigrad_layers as mgl
>>> spec = InputSpec(min_ndim=2, axes={-1: 4})
>>> spec
InputSpec(min_ndim=2, axes={-1: 4})
>>> assert_input_compatibility(spec, mg.ones((2, 4)), "dense")
>>> try:
...     assert_input_compatibility(spec, mg.ones((2, 5)), "dense")
... except ValueError as error:
...     print(*str(error).split(": ", 1), sep=":\n")
Input 0 of layer 'dense' is incompatible with the layer:
expected axis -1 of input shape to have value 4, but received input with shape (2, 5)
"""

from __future__ import annotations

import numpy as np

from minigrad.nest import flatten

__all__ = ["InputSpec", "assert_input_compatibility"]


def _optional_int(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"InputSpec `{name}` must be None or an int >= 0, received {value!r}")
    return int(value)


class InputSpec:
    """The rank, sizes and dtype a layer's input must have; every argument is optional.

    Args: ``dtype`` (a dtype name), ``shape`` (a tuple of ints and None, batch first),
    ``ndim``, ``max_ndim``, ``min_ndim`` (ints), ``axes`` (a dict ``{axis: size}``, negative
    axes count from the end).
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype = None if dtype is None else np.dtype(dtype).name
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else _optional_int("ndim", ndim)
        self.max_ndim = _optional_int("max_ndim", max_ndim)
        self.min_ndim = _optional_int("min_ndim", min_ndim)
        axes = dict(axes or {})
        if not all(isinstance(a, int | np.integer) for a in axes):
            raise TypeError(f"InputSpec `axes` must be a dict with integer keys, received {axes!r}")
        self.axes = {int(a): v for a, v in axes.items()}
        rank = self.ndim if self.ndim is not None else self.min_ndim
        if rank is not None and self.axes and max(self.axes) > rank - 1:
            raise ValueError(
                f"InputSpec axis {max(self.axes)} is greater than the maximum allowed value "
                f"{rank - 1} for inputs of rank {rank}"
            )

    def __repr__(self) -> str:
        fields = ("dtype", "shape", "ndim", "max_ndim", "min_ndim", "axes")
        shown = [
            f"{name}={getattr(self, name)}"
            for name in fields
            if getattr(self, name) and not (name == "ndim" and self.shape is not None)
        ]
        return f"InputSpec({', '.join(shown)})"

    def get_config(self) -> dict:
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    @classmethod
    def from_config(cls, config: dict) -> InputSpec:
        return cls(**config)


def _incompatible(index: int, layer_name: str, detail: str) -> ValueError:
    return ValueError(
        f"Input {index} of layer {layer_name!r} is incompatible with the layer: {detail}"
    )


def _check_one(spec: InputSpec, x, index: int, layer_name: str) -> None:
    shape = tuple(None if d is None else int(d) for d in x.shape)
    ndim = len(shape)
    if spec.ndim is not None and ndim != spec.ndim:
        raise _incompatible(
            index,
            layer_name,
            f"expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}",
        )
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise _incompatible(
            index,
            layer_name,
            f"expected max_ndim={spec.max_ndim}, found ndim={ndim}. Full shape received: {shape}",
        )
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise _incompatible(
            index,
            layer_name,
            f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: {shape}",
        )
    if spec.dtype is not None and np.dtype(x.dtype).name != spec.dtype:
        raise _incompatible(
            index, layer_name, f"expected dtype={spec.dtype}, found dtype={np.dtype(x.dtype).name}"
        )
    for axis, value in spec.axes.items():
        if value is None:
            continue
        if not -ndim <= axis < ndim or shape[axis] not in (None, value):
            raise _incompatible(
                index,
                layer_name,
                f"expected axis {axis} of input shape to have value {value}, but received "
                f"input with shape {shape}",
            )
    if spec.shape is not None:
        for expected, size in zip(spec.shape, shape, strict=True):
            if expected is not None and size is not None and expected != size:
                raise _incompatible(
                    index, layer_name, f"expected shape={spec.shape}, found shape={shape}"
                )


def assert_input_compatibility(input_spec, inputs, layer_name: str) -> None:
    """Raise ValueError unless ``inputs`` (a Tensor, SymbolicTensor, or a list of them) meet
    ``input_spec`` (None, an InputSpec, or a list with one InputSpec or None per input).

    The message names the input's index, the layer, what was expected and the shape received."""
    if input_spec is None:
        return
    specs = flatten(input_spec)
    if not specs:
        return
    tensors = flatten(inputs)
    for x in tensors:
        if not hasattr(x, "shape"):
            raise TypeError(
                f"Inputs to layer {layer_name!r} must be tensors, received {x!r} of type "
                f"{type(x).__name__}"
            )
    if len(tensors) != len(specs):
        raise ValueError(
            f"Layer {layer_name!r} expects {len(specs)} input(s), but it received "
            f"{len(tensors)} input tensors. Input shapes received: "
            f"{[tuple(x.shape) for x in tensors]}"
        )
    for index, (x, spec) in enumerate(zip(tensors, specs, strict=True)):
        if spec is not None:
            _check_one(spec, x, index, layer_name)
