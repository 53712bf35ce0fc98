"""The convenience layers SimpleRNN, LSTM and GRU: ``RNN`` around one built-in cell.

``LSTM(units, **kwargs)`` equals ``RNN(LSTMCell(units, ...), ...)``: same numbers, same masking,
same states. There is one rule for the keyword arguments: those that ``RNN.__init__`` names
(``return_sequences``, ``stateful``, ...) and the Layer arguments (``name``, ``dtype``, ...) stay
with the layer; every other keyword goes to the cell, which checks it (so an unknown one is a
``TypeError``). The cell's arguments are written once, in the cell class; the layer repeats none.

The cell is named after its class (``lstm_cell``), so the weights are ``lstm/lstm_cell/kernel``,
``lstm/lstm_cell/recurrent_kernel`` and ``lstm/lstm_cell/bias``. The cell's settings read through
on the layer (``layer.units``, ``layer.dropout``, ...), and ``get_config`` is the cell's config
plus the RNN's, flat, as ``LSTM(**config)`` takes it.

>>> import minigrad as mg, minigrad_layers as mgl
>>> layer = mgl.LSTM(8, return_sequences=True, dropout=0.1)
>>> layer(mg.ones((2, 5, 3))).shape, layer.dropout, layer.cell.dropout
((2, 5, 8), 0.1, 0.1)
>>> [w.name for w in layer.weights]
['lstm/lstm_cell/kernel', 'lstm/lstm_cell/recurrent_kernel', 'lstm/lstm_cell/bias']
"""

from __future__ import annotations

import inspect

from minigrad_layers.engine.layer import Layer
from minigrad_layers.layers.rnn.base import RNN
from minigrad_layers.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell

__all__ = ["GRU", "LSTM", "SimpleRNN"]


def _named_parameters(function) -> set[str]:
    """The parameters ``function`` names (not ``self``, not ``*args`` / ``**kwargs``)."""
    return {
        name
        for name, p in inspect.signature(function).parameters.items()
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


_LAYER_OWN_ARGUMENTS = (_named_parameters(RNN.__init__) - {"cell"}) | _named_parameters(
    Layer.__init__
)
"""The keywords a single-cell layer keeps: the RNN's and the Layer's. All others go to the cell."""


def _cell_setting(name: str) -> property:
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's ``{name}``.")


class _SingleCellRNN(RNN):
    """``RNN`` around one built-in cell, made from the keywords that are not the RNN's."""

    _CELL_CLASS: type
    _CELL_NAME: str

    def __init__(self, units, **kwargs):
        own = {key: kwargs.pop(key) for key in list(kwargs) if key in _LAYER_OWN_ARGUMENTS}
        try:
            cell = self._CELL_CLASS(
                units,
                name=self._CELL_NAME,
                dtype=own.get("dtype"),
                trainable=own.get("trainable", True),
                **kwargs,
            )
        except TypeError as error:  # e.g. an unknown keyword: say which layer received it
            raise TypeError(
                f"{type(self).__name__} gives the keywords that are not RNN or Layer arguments "
                f"to its cell: {error}"
            ) from error
        super().__init__(cell, **own)

    units = _cell_setting("units")
    activation = _cell_setting("activation")
    use_bias = _cell_setting("use_bias")
    kernel_initializer = _cell_setting("kernel_initializer")
    recurrent_initializer = _cell_setting("recurrent_initializer")
    bias_initializer = _cell_setting("bias_initializer")
    dropout = _cell_setting("dropout")
    recurrent_dropout = _cell_setting("recurrent_dropout")

    def get_config(self) -> dict:
        """The cell's arguments and the RNN's, flat, as ``SimpleRNN(**config)`` takes them."""
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        for key in ("name", "dtype", "trainable"):
            cell_config.pop(key, None)
        return {**cell_config, **config}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class SimpleRNN(_SingleCellRNN):
    """A fully connected recurrent layer: ``RNN(SimpleRNNCell(units, ...), ...)``.

    ``h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)``. Arguments: ``units``
    and the keywords of :class:`SimpleRNNCell` (``activation="tanh"``, ``use_bias=True``,
    ``kernel_initializer="glorot_uniform"``, ``recurrent_initializer="orthogonal"``,
    ``bias_initializer="zeros"``, ``dropout=0.0``, ``recurrent_dropout=0.0``) and of :class:`RNN`
    (``return_sequences``, ``return_state``, ``go_backwards``, ``stateful``, ``unroll``,
    ``time_major``, ``zero_output_for_mask``, ``truncate_gradient``), plus the Layer arguments.

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> out, h = mgl.SimpleRNN(4, return_state=True)(mg.ones((2, 5, 3)))
    >>> out.shape, bool((out.numpy() == h.numpy()).all())
    ((2, 4), True)
    """

    _CELL_CLASS = SimpleRNNCell
    _CELL_NAME = "simple_rnn_cell"


class LSTM(_SingleCellRNN):
    """Long short-term memory layer: ``RNN(LSTMCell(units, ...), ...)``.

    Gates in the Keras order i, f, c, o (see :class:`LSTMCell` for the equations); states
    ``[h, c]``, so ``return_state=True`` gives ``[output, h, c]``. Arguments: ``units`` and the
    keywords of :class:`LSTMCell` (SimpleRNN's plus ``recurrent_activation="sigmoid"``,
    ``unit_forget_bias=True`` and ``implementation=2``) and of :class:`RNN`, plus the Layer
    arguments.

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> out, h, c = mgl.LSTM(4, return_state=True)(mg.ones((2, 5, 3)))
    >>> out.shape, c.shape
    ((2, 4), (2, 4))
    """

    _CELL_CLASS = LSTMCell
    _CELL_NAME = "lstm_cell"

    recurrent_activation = _cell_setting("recurrent_activation")
    unit_forget_bias = _cell_setting("unit_forget_bias")
    implementation = _cell_setting("implementation")


class GRU(_SingleCellRNN):
    """Gated recurrent unit layer: ``RNN(GRUCell(units, ...), ...)``.

    Gates in the Keras order z, r, h; ``reset_after=True`` (the default) applies the reset gate
    after the recurrent matmul and has a ``(2, 3 units)`` bias (see :class:`GRUCell`).
    Arguments: ``units`` and the keywords of :class:`GRUCell` (SimpleRNN's plus
    ``recurrent_activation="sigmoid"``, ``implementation=2`` and ``reset_after=True``) and of
    :class:`RNN`, plus the Layer arguments.

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> layer = mgl.GRU(4)
    >>> layer(mg.ones((2, 5, 3))).shape, layer.cell.bias.shape
    ((2, 4), (2, 12))
    """

    _CELL_CLASS = GRUCell
    _CELL_NAME = "gru_cell"

    recurrent_activation = _cell_setting("recurrent_activation")
    implementation = _cell_setting("implementation")
    reset_after = _cell_setting("reset_after")
