"""The convenience layers SimpleRNN, LSTM and GRU: ``RNN`` around one built-in cell.

``LSTM(units, ...)`` takes the arguments of :class:`LSTMCell` and those of :class:`RNN` and equals
``RNN(LSTMCell(units, ...), ...)``: same numbers, same masking, same states. The cell is named
after its class (``lstm_cell``), so the weights are ``lstm/lstm_cell/kernel``,
``lstm/lstm_cell/recurrent_kernel`` and ``lstm/lstm_cell/bias``. The cell's settings are readable
on the layer (``layer.units``, ``layer.dropout``, ...).

>>> import minigrad as mg, minigrad_layers as mgl
>>> layer = mgl.LSTM(8, return_sequences=True)
>>> layer(mg.ones((2, 5, 3))).shape
(2, 5, 8)
>>> [w.name for w in layer.weights]
['lstm/lstm_cell/kernel', 'lstm/lstm_cell/recurrent_kernel', 'lstm/lstm_cell/bias']
"""

from __future__ import annotations

import inspect

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


def _cell_setting(name: str) -> property:
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's ``{name}``.")


class _SingleCellRNN(RNN):
    """``RNN`` around one built-in cell that it makes from the cell arguments."""

    _CELL_CLASS: type
    _CELL_NAME: str

    def __init__(self, units, **kwargs):
        cell_parameters = _named_parameters(self._CELL_CLASS.__init__)
        cell_kwargs = {key: kwargs.pop(key) for key in list(kwargs) if key in cell_parameters}
        cell = self._CELL_CLASS(
            units,
            name=self._CELL_NAME,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            **cell_kwargs,
        )
        # The RNN and Layer arguments; an unknown one raises TypeError naming this class.
        super().__init__(cell, **kwargs)

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

    ``h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)``. Arguments: those of
    :class:`SimpleRNNCell` (``units``, ``activation="tanh"``, ``use_bias``, the three
    initializers, ``dropout``, ``recurrent_dropout``) and of :class:`RNN` (``return_sequences``,
    ``return_state``, ``go_backwards``, ``stateful``, ``unroll``, ``time_major``,
    ``zero_output_for_mask``, ``truncate_gradient``), plus the Layer arguments.

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> out, h = mgl.SimpleRNN(4, return_state=True)(mg.ones((2, 5, 3)))
    >>> out.shape, bool((out.numpy() == h.numpy()).all())
    ((2, 4), True)
    """

    _CELL_CLASS = SimpleRNNCell
    _CELL_NAME = "simple_rnn_cell"

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )


class LSTM(_SingleCellRNN):
    """Long short-term memory layer: ``RNN(LSTMCell(units, ...), ...)``.

    Gates in the Keras order i, f, c, o (see :class:`LSTMCell` for the equations); states
    ``[h, c]``, so ``return_state=True`` gives ``[output, h, c]``. Arguments: those of
    :class:`LSTMCell` (adds ``recurrent_activation="sigmoid"`` and ``unit_forget_bias=True``
    to SimpleRNN's) and of :class:`RNN`, plus the Layer arguments.

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> out, h, c = mgl.LSTM(4, return_state=True)(mg.ones((2, 5, 3)))
    >>> out.shape, c.shape
    ((2, 4), (2, 4))
    """

    _CELL_CLASS = LSTMCell
    _CELL_NAME = "lstm_cell"

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )

    recurrent_activation = _cell_setting("recurrent_activation")
    unit_forget_bias = _cell_setting("unit_forget_bias")


class GRU(_SingleCellRNN):
    """Gated recurrent unit layer: ``RNN(GRUCell(units, ...), ...)``.

    Gates in the Keras order z, r, h; ``reset_after=True`` (the default) applies the reset gate
    after the recurrent matmul and has a ``(2, 3 units)`` bias (see :class:`GRUCell`).
    Arguments: those of :class:`GRUCell` and of :class:`RNN`, plus the Layer arguments.

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> layer = mgl.GRU(4)
    >>> layer(mg.ones((2, 5, 3))).shape, layer.cell.bias.shape
    ((2, 4), (2, 12))
    """

    _CELL_CLASS = GRUCell
    _CELL_NAME = "gru_cell"

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            reset_after=reset_after,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )

    recurrent_activation = _cell_setting("recurrent_activation")
    reset_after = _cell_setting("reset_after")
