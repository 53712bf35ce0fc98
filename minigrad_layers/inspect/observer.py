"""Per-step reads for BPTT inspection: an observer of the RNN time loop (``rnn/loop.py``).

Inside ``with recording_steps(layer) as recorder:`` every call of the recurrent ``layer`` runs
its per-step loop (never the fused path) with a :class:`StepRecorder` attached, which at each
step t (processing order), inside the step's name scope ``loop.step_scope(layer.name, t)``:

* on entering, rebinds every ``mg.Variable`` attribute of every cell of the layer
  (``cell.kernel``, ...; stacked cells included) to ``mg.identity(variable)``, so the cell's
  uses of a weight at step t go through one recorded read: the gradient with respect to the
  read's output is step t's contribution to the weight's gradient, and these add up over t to
  the full gradient (cells read their weights through their attributes at every call);
* on leaving, points the attributes back at the Variables and passes the carried states through
  ``mg.identity`` in the sub-scope ``loop.STATES_SCOPE``: the gradient with respect to such an
  identity's output is dL/d(state after step t), everything downstream included. When the step
  output is one of the cell's new states (as for the built-in cells) it is taken from that
  exposed state, so its gradient also carries the loss's direct part (the ``dh`` of a
  hand-written BPTT loop). It also keeps the new states as the cell returned them (before
  masking): their gradients include the paths inside the step (an LSTM's ``c_t`` also makes
  ``h_t``), which the exposed copies, made after the cell, do not see.

Values are unchanged. The recorder keeps what it saw in the layer's latest call: the states
before step 0, the step inputs in processing order, the step masks, the reads and the exposed
states. Leaving the context detaches it and restores the Variables, also after an exception.

>>> import numpy as np, minigrad as mg, minigrad_layers as mgl
>>> layer = mgl.SimpleRNN(2, name="rnn")
>>> with mg.GradientTape() as tape, recording_steps(layer) as recorder:
...     _ = layer(np.ones((1, 3, 4)))
>>> len(recorder.weight_reads), [v.name.split("/")[-1] for v, _ in recorder.weight_reads[0]]
(3, ['kernel', 'recurrent_kernel', 'bias'])
>>> sorted({r.scope for r in tape.records if r.op == "identity"})[:2], layer.step_observer
(['rnn/t0', 'rnn/t0/states'], None)
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

import minigrad as mg
from minigrad.nest import map_structure
from minigrad_layers.layers.rnn import loop
from minigrad_layers.layers.rnn.base import RNN
from minigrad_layers.layers.rnn.protocol import iter_cells


class StepRecorder(loop.StepObserver):
    """Reads every cell weight per step and exposes the carried states (module docstring).

    What the latest call's step t saw, in processing order: ``step_inputs[t]`` (numpy, ``(B,
    ...)``; nested like the input for a nested input), ``step_masks[t]`` (``(B,)`` bool, or
    None), ``weight_reads[t]`` (``[(variable, read)]``, one per weight, in cell and attribute
    order), ``exposed_states[t]`` (the flat identities of the states after the step),
    ``new_states[t]`` (the flat new states as the cell returned them, before masking);
    ``states_before`` (numpy, flat): step 0's states.
    """

    def __init__(self, layer: RNN):
        self.layer = layer
        self._attributes: list[tuple[object, str, mg.Variable]] = []
        self._start_call([])

    def _start_call(self, states: list[mg.Tensor]) -> None:
        """Forget the previous call; find the weights (the cells are built by now)."""
        self.restore_weights()
        self._attributes = _weight_attributes(iter_cells(self.layer.cell))
        self.states_before = [np.array(s.numpy()) for s in states]
        self.step_inputs: list[np.ndarray] = []
        self.step_masks: list[np.ndarray | None] = []
        self.weight_reads: list[list[tuple[mg.Variable, mg.Tensor]]] = []
        self.exposed_states: list[list[mg.Tensor]] = []
        self.new_states: list[list[mg.Tensor]] = []

    def enter_step(self, t, x_t, states, keep):
        if t == 0:
            self._start_call(states)
        self.step_inputs.append(map_structure(lambda x: np.array(x.numpy()), x_t))
        self.step_masks.append(keep)
        reads = []
        for owner, name, variable in self._attributes:
            read = mg.identity(variable)
            object.__setattr__(owner, name, read)
            reads.append((variable, read))
        self.weight_reads.append(reads)

    def leave_step(self, t, states, output, cell_states):
        self.restore_weights()
        with mg.name_scope(loop.STATES_SCOPE):
            exposed = [mg.identity(s) for s in states]
        self.exposed_states.append(exposed)
        self.new_states.append(list(cell_states))
        for k, new in enumerate(cell_states):
            if new is output:
                return exposed, exposed[k]
        return exposed, output

    def restore_weights(self) -> None:
        """Point every rebound attribute back at its Variable."""
        for owner, name, variable in self._attributes:
            object.__setattr__(owner, name, variable)


@contextmanager
def recording_steps(layer: RNN):
    """Attach a :class:`StepRecorder` to the recurrent ``layer`` (only to it: the layer may run
    inside a model) and yield it; on exit detach it and restore the cells' weights."""
    if not isinstance(layer, RNN):
        raise TypeError(
            f"recording_steps expects a recurrent layer (RNN, SimpleRNN, LSTM, GRU), received "
            f"{type(layer).__name__}; for Bidirectional use its forward_layer/backward_layer"
        )
    recorder = StepRecorder(layer)
    previous = layer.step_observer
    layer.step_observer = recorder
    try:
        yield recorder
    finally:
        layer.step_observer = previous
        recorder.restore_weights()


def _weight_attributes(cells) -> list[tuple[object, str, mg.Variable]]:
    """``(owner, attribute name, variable)`` for every Variable attribute of the cells."""
    found = []
    for cell in cells:
        for name, value in list(getattr(cell, "__dict__", {}).items()):
            if isinstance(value, mg.Variable):
                found.append((cell, name, value))
    return found
