"""Recurrent layers. Reading order: ``base.py`` (``RNN`` and the cell protocol), ``loop.py``
(the time loop), ``protocol.py`` (state_size helpers), ``nested.py`` (nested inputs and
outputs), ``stacked.py``, ``bidirectional.py``, then ``fused.py`` (when a built-in cell runs its
recurrence over the whole sequence as one op)."""

from minigrad_layers.layers.rnn.base import RNN
from minigrad_layers.layers.rnn.bidirectional import Bidirectional
from minigrad_layers.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell
from minigrad_layers.layers.rnn.layers import GRU, LSTM, SimpleRNN
from minigrad_layers.layers.rnn.stacked import StackedRNNCells

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Bidirectional",
    "GRUCell",
    "LSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
]
