"""StackedRNNCells: several cells run one after the other inside each time step.

At every step the output of cell k is the input of cell k+1; the stack's output is the last
cell's. ``RNN([cell_a, cell_b])`` is ``RNN(StackedRNNCells([cell_a, cell_b]))``.
"""

from __future__ import annotations

import minigrad as mg
from minigrad.nest import flatten
from minigrad_layers.engine.layer import Layer
from minigrad_layers.layers.rnn.protocol import (
    build_cell,
    call_accepts,
    check_cell,
    clone_cell,
    initial_states,
    is_multiple_state,
    output_shape,
    pack_states,
    shape_to_size,
)


class StackedRNNCells(Layer):
    """A cell made of ``cells``, run in order at each step (a cell itself: see ``RNN``).

    * ``state_size``: the tuple of the cells' ``state_size`` (natural order: cell 0 first), so
      the states are nested one entry per cell: a bare Tensor for a cell whose ``state_size`` is
      an int or ``TensorShape``, a list for a cell whose ``state_size`` is a list or tuple.
    * ``output_size``: the last cell's (its ``output_size``, else its first state's size).
    * ``build`` builds cell k on ``(batch, output size of cell k-1)``; ``training`` and
      ``constants`` reach the cells whose ``call`` names them. Weights: every cell's, in order.

    >>> import minigrad as mg
    >>> import minigrad_layers as mgl
    >>> stack = mgl.StackedRNNCells([mgl.SimpleRNNCell(3), mgl.LSTMCell(4)])
    >>> stack.state_size, stack.output_size
    ((3, [4, 4]), 4)
    >>> out, h_simple, (h_lstm, c_lstm) = mgl.RNN(stack, return_state=True)(mg.ones((2, 5, 6)))
    >>> out.shape, h_simple.shape, c_lstm.shape
    ((2, 4), (2, 3), (2, 4))
    """

    def __init__(self, cells, **kwargs):
        cells = list(cells)
        if not cells:
            raise ValueError("StackedRNNCells needs at least one cell, received an empty list")
        for cell in cells:
            check_cell(cell, who="Every cell of a StackedRNNCells")
        super().__init__(**kwargs)
        self.cells = cells
        self._accepts = [
            (call_accepts(cell, "training"), call_accepts(cell, "constants")) for cell in cells
        ]

    @property
    def state_size(self) -> tuple:
        return tuple(cell.state_size for cell in self.cells)

    @property
    def output_size(self):
        return shape_to_size(output_shape(self.cells[-1]))

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None) -> list:
        """Each cell's initial states (its ``get_initial_state``, else zeros), one entry per
        cell."""
        if inputs is not None:
            batch_size, dtype = inputs.shape[0], dtype or inputs.dtype
        flat = [s for cell in self.cells for s in initial_states(cell, batch_size, dtype)]
        return pack_states(self.state_size, flat)

    def build(self, input_shape) -> None:
        shape = tuple(input_shape)
        for cell in self.cells:
            build_cell(cell, shape)
            shape = (shape[0], *output_shape(cell))
        self.built = True

    def call(self, inputs, states, training=None, constants=None):
        new_states = []
        for cell, cell_states, (takes_training, takes_constants) in zip(
            self.cells, states, self._accepts, strict=True
        ):
            several = is_multiple_state(cell.state_size)
            kwargs = {}
            if takes_training:
                kwargs["training"] = training
            if takes_constants and constants is not None:
                kwargs["constants"] = constants
            inputs, new = cell.call(
                inputs, list(cell_states) if several else [cell_states], **kwargs
            )
            if several:
                new_states.append(list(new))
            else:
                new_states.append(new if isinstance(new, mg.Tensor) else flatten(new)[0])
        return inputs, new_states

    def get_config(self) -> dict:
        """``cells`` are the cell objects; ``from_config`` copies them (see ``RNN.get_config``)."""
        return {**super().get_config(), "cells": list(self.cells)}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["cells"] = [clone_cell(cell) for cell in config["cells"]]
        return cls(**config)
