"""PyTorch ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` state dicts <-> the Keras-layout weights of
``SimpleRNN`` / ``LSTM`` / ``GRU`` (and ``Bidirectional`` of one).

The two libraries compute the same cells from differently laid-out weights. PyTorch keeps, for
layer ``k`` of a stack (``_l{k}``; ``_l{k}_reverse`` for the backward direction):

* ``weight_ih_l{k}`` ``(G H, D)`` and ``weight_hh_l{k}`` ``(G H, H)``: transposed against Keras'
  ``kernel (D, G H)`` and ``recurrent_kernel (H, G H)``;
* two biases ``bias_ih_l{k}`` and ``bias_hh_l{k}`` ``(G H,)``, where Keras' SimpleRNN and LSTM
  have one (their sum: only the sum enters the equations) and Keras' GRU with
  ``reset_after=True`` keeps both as the rows of ``bias (2, 3 H)``;
* the gate blocks in the order ``i, f, g, o`` for LSTM (Keras: ``i, f, c, o``, the same) and
  ``r, z, n`` for GRU (Keras: ``z, r, h``: the first two blocks swap).

PyTorch's GRU is Keras' ``reset_after=True`` form, ``n = tanh(W_in x + b_in + r * (W_hn h +
b_hn))``; Keras' ``reset_after=False`` (the reset gate applied to ``h`` before the product) has
no PyTorch counterpart and is refused.

Arrays go in and come out as numpy; torch tensors are accepted (and returned with
``as_torch=True``), and torch is imported only then.

>>> import numpy as np, minigrad_layers as mgl
>>> gru = mgl.GRU(3)
>>> gru.build((None, None, 2))
>>> state = mgl.interop.torch_state_dict(gru)
>>> sorted(state), state["weight_ih_l0"].shape
(['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0'], (9, 2))
>>> twin = mgl.GRU(3)
>>> mgl.interop.load_torch_state_dict(twin, state)
>>> all(np.array_equal(a, b) for a, b in zip(gru.get_weights(), twin.get_weights()))
True
"""

from __future__ import annotations

import numpy as np

from minigrad_layers.layers.rnn.bidirectional import Bidirectional
from minigrad_layers.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell

__all__ = ["load_torch_state_dict", "torch_state_dict"]

# cell class -> (gates, the Keras gate blocks in PyTorch's order)
_LAYOUTS = {SimpleRNNCell: (1, [0]), LSTMCell: (4, [0, 1, 2, 3]), GRUCell: (3, [1, 0, 2])}
_SUPPORTED = "SimpleRNN, LSTM or GRU (or Bidirectional of one)"


def torch_state_dict(layer, layer_index: int = 0, as_torch: bool = False) -> dict:
    """The PyTorch state dict entries of a built ``layer`` as layer ``layer_index`` of a
    PyTorch stack: ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
    (and the ``_reverse`` ones for a Bidirectional layer). A layer without bias gets zero biases
    (PyTorch's ``bias=False`` drops the entries instead: delete them for such a module)."""
    state = {}
    for suffix, directional in _directions(layer, layer_index):
        if not directional.built:
            raise ValueError(f"torch_state_dict: layer {directional.name!r} is not built yet")
        state.update(_to_torch(directional.cell, suffix))
    if as_torch:
        import torch

        state = {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in state.items()}
    return state


def load_torch_state_dict(layer, state_dict, layer_index: int = 0) -> None:
    """Set ``layer``'s weights from a PyTorch ``nn.RNN``/``nn.LSTM``/``nn.GRU`` state dict
    (layer ``layer_index`` of its stack). The layer is built from the weights' shapes if needed;
    every shape is checked before anything is assigned."""
    arrays = {key: _as_numpy(value) for key, value in dict(state_dict).items()}
    directions = _directions(layer, layer_index)
    converted = [_from_torch(d.cell, arrays, suffix, d.name) for suffix, d in directions]
    if not layer.built:
        layer.build((None, None, converted[0][0].shape[0]))
    for (suffix, directional), weights in zip(directions, converted, strict=True):
        current = directional.get_weights()
        if len(current) != len(weights):
            raise ValueError(
                f"load_torch_state_dict: layer {directional.name!r} has {len(current)} weights "
                f"(use_bias={directional.cell.use_bias}), the state dict gives {len(weights)}"
            )
        names = ("kernel", "recurrent_kernel", "bias")[: len(weights)]
        for have, new, what in zip(current, weights, names, strict=True):
            if have.shape != new.shape:
                raise ValueError(
                    f"load_torch_state_dict: layer {directional.name!r} expects {what} of shape "
                    f"{have.shape}, the state dict gives {new.shape} (suffix {suffix!r})"
                )
    for (_, directional), weights in zip(directions, converted, strict=True):
        directional.set_weights(weights)


# -- one direction ---------------------------------------------------------------------------
def _to_torch(cell, suffix: str) -> dict[str, np.ndarray]:
    gates, order = _layout(cell)
    units = cell.units
    blocks = _blocks(units, order)
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    if cell.bias is None:
        input_bias = recurrent_bias = np.zeros(gates * units, kernel.dtype)
    elif cell.bias.ndim == 2:  # GRU reset_after: rows input, recurrent
        input_bias, recurrent_bias = cell.bias.numpy()
    else:
        input_bias, recurrent_bias = cell.bias.numpy(), np.zeros(gates * units, kernel.dtype)
    return {
        f"weight_ih{suffix}": kernel[:, blocks].T.copy(),
        f"weight_hh{suffix}": recurrent[:, blocks].T.copy(),
        f"bias_ih{suffix}": input_bias[blocks].copy(),
        f"bias_hh{suffix}": recurrent_bias[blocks].copy(),
    }


def _from_torch(cell, arrays: dict, suffix: str, name: str) -> list[np.ndarray]:
    gates, order = _layout(cell)
    units = cell.units
    needed = [f"weight_ih{suffix}", f"weight_hh{suffix}"]
    missing = [key for key in needed if key not in arrays]
    if missing:
        raise ValueError(
            f"load_torch_state_dict: layer {name!r} needs {missing} in the state dict, which has "
            f"{sorted(arrays)}"
        )
    w_ih, w_hh = arrays[needed[0]], arrays[needed[1]]
    if w_ih.ndim != 2 or w_ih.shape[0] != gates * units or w_hh.shape != (gates * units, units):
        raise ValueError(
            f"load_torch_state_dict: layer {name!r} ({type(cell).__name__}, {units} units) "
            f"expects weight_ih{suffix} of shape ({gates * units}, input_dim) and "
            f"weight_hh{suffix} of shape {(gates * units, units)}, received {w_ih.shape} and "
            f"{w_hh.shape}"
        )
    inverse = np.argsort(_blocks(units, order))  # PyTorch rows -> Keras columns
    weights = [w_ih.T[:, inverse], w_hh.T[:, inverse]]
    if cell.use_bias:
        zeros = np.zeros(gates * units, w_ih.dtype)
        b_ih = arrays.get(f"bias_ih{suffix}", zeros)[inverse]
        b_hh = arrays.get(f"bias_hh{suffix}", zeros)[inverse]
        two_rows = isinstance(cell, GRUCell)
        weights.append(np.stack([b_ih, b_hh]) if two_rows else b_ih + b_hh)
    return [np.ascontiguousarray(w) for w in weights]


def _layout(cell) -> tuple[int, list[int]]:
    for cls, layout in _LAYOUTS.items():
        if isinstance(cell, cls):
            if isinstance(cell, GRUCell) and not cell.reset_after:
                raise ValueError(
                    "PyTorch's GRU is Keras' reset_after=True form; a GRU with "
                    "reset_after=False (the reset gate applied before the recurrent product) "
                    "has no PyTorch counterpart"
                )
            return layout
    raise TypeError(f"expected a {_SUPPORTED} layer, received a cell {type(cell).__name__}")


def _blocks(units: int, order: list[int]) -> np.ndarray:
    """Keras column indices in PyTorch row order: block ``order[j]`` of Keras is block ``j``."""
    return np.concatenate([np.arange(g * units, (g + 1) * units) for g in order])


def _directions(layer, layer_index: int) -> list[tuple[str, object]]:
    if isinstance(layer_index, bool) or not isinstance(layer_index, int) or layer_index < 0:
        raise ValueError(f"layer_index must be an integer >= 0, received {layer_index!r}")
    suffix = f"_l{layer_index}"
    if isinstance(layer, Bidirectional):
        return [(suffix, layer.forward_layer), (suffix + "_reverse", layer.backward_layer)]
    if not hasattr(layer, "cell"):
        raise TypeError(f"expected a {_SUPPORTED} layer, received {type(layer).__name__}")
    return [(suffix, layer)]


def _as_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)
