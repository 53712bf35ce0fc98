"""``trace_bptt``: backprop-through-time, step by step, read off the tape.

The layer runs once under a persistent ``GradientTape`` with a ``StepRecorder`` attached
(``observer.py``): every step t (processing order) records

* in scope ``loop.step_scope(layer.name, t)``: one ``identity`` per cell weight (that step's read
  of it), then the cell's ops and the masking ``where``s;
* in its sub-scope ``loop.STATES_SCOPE``: one ``identity`` per carried state.

The recorder hands over those identities, and what the time loop showed it: the states before
step 0, the step inputs in processing order and the step masks. One ``tape.gradient`` call then
gives, for every step, the total dL/d(states after step t) (the ``state_grads``, read off the
new states the cell returned, where the paths inside the step start) and dL/d(step t's read of
W) (the ``param_grads_by_step``, which add up over t to dL/dW). Nothing here knows how a cell
computes: the Jacobians dh_t/dh_{t-1} come from calling the cell again on the recorded step inputs
and states, under a tape.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.nest import flatten
from minigrad_layers.inspect.observer import StepRecorder, recording_steps
from minigrad_layers.layers.rnn import loop
from minigrad_layers.layers.rnn.base import RNN
from minigrad_layers.layers.rnn.protocol import (
    call_accepts,
    is_multiple_state,
    pack_states,
    state_shapes,
)
from minigrad_layers.layers.rnn.stacked import StackedRNNCells


def trace_bptt(layer, x, loss_fn, mask=None, initial_state=None, constants=None) -> BPTTTrace:
    """Call the RNN ``layer`` on ``x`` under a tape, compute ``loss = loss_fn(output)`` (a scalar
    Tensor; ``output`` is what the layer returns) and return the :class:`BPTTTrace`.

    ``mask``, ``initial_state`` and ``constants`` are passed to the layer's call as given.
    """
    if not isinstance(layer, RNN):
        raise TypeError(
            f"trace_bptt expects a recurrent layer (RNN, SimpleRNN, LSTM, GRU), received "
            f"{type(layer).__name__}; for Bidirectional trace its forward_layer/backward_layer"
        )
    if isinstance(x, dict) or (
        isinstance(x, list | tuple)
        and any(isinstance(leaf, mg.Tensor | np.ndarray) for leaf in flatten(x))
    ):
        raise TypeError(
            f"trace_bptt traces a layer on one input sequence (an array or Tensor); layer "
            f"{layer.name!r} was given a {type(x).__name__} of sequences (a nested input)"
        )
    x = x if isinstance(x, mg.Tensor) else mg.tensor(x)
    if x.dtype.kind == "f" and x.dtype != np.dtype(layer.dtype):
        x = mg.cast(x, layer.dtype)
    call_kwargs = {
        key: value
        for key, value in [
            ("mask", mask),
            ("initial_state", initial_state),
            ("constants", constants),
        ]
        if value is not None
    }
    with mg.GradientTape(persistent=True) as tape:
        if x.dtype.kind == "f":
            tape.watch(x)
        with recording_steps(layer) as recorder:
            output = layer(x, **call_kwargs)
        loss = loss_fn(output)
    if not isinstance(loss, mg.Tensor) or loss.size != 1:
        shape = getattr(loss, "shape", type(loss).__name__)
        raise ValueError(f"loss_fn must return a scalar Tensor, it returned {shape}")
    return BPTTTrace(layer, tape, loss, x, recorder, constants)


class BPTTTrace:
    """What one forward and backward pass of a recurrent layer did, step by step (numpy arrays).

    ``loss`` (float); ``steps`` (T, processing order); ``states[t]`` / ``state_grads[t]``: the
    states after step t (after masking) and the total dL/d(them), nested like the layer's
    ``states``; ``input_grads``: dL/dx, shaped like x; ``grad_norms`` (T,): ||dL/dh_t|| over
    batch and units for the first state (of the last cell when cells are stacked);
    ``param_grads_by_step``: ``{weight.name: (T, *weight.shape)}``, step t's contribution
    (summing over t gives dL/dW).

    *Total* means every path from the state to the loss, those inside step t included: the ``δ``
    of a hand-written BPTT loop (``minigrad.recurrent_reference``). For an LSTM (step t kept)::

        δh_t = dL/dy_t + δz_{t+1} U^T                         (the output, and step t + 1)
        δc_t = δh_t ⊙ o_t ⊙ tanh'(c_t) + δc_{t+1} ⊙ f_{t+1}    (h_t = o_t tanh(c_t), and step t + 1)

    and likewise the first cell's ``h_t`` of stacked cells includes its path into the next cell
    at step t. On a row whose step t is masked the states are carried, so ``state_grads[t]`` is
    the gradient that reaches them from the later steps (``δc_{t+1}`` itself when step t + 1 is
    masked too).
    """

    def __init__(self, layer: RNN, tape, loss, x, recorder: StepRecorder, constants=None):
        self.layer = layer
        self.tape = tape
        self.loss = float(loss.item())
        self._constants = constants
        self._states_before = recorder.states_before
        self._step_inputs = recorder.step_inputs
        self._step_masks = recorder.step_masks
        self.steps = len(recorder.step_inputs)
        self._by_step = self._group_records()
        reads = recorder.weight_reads
        grads = tape.gradient(
            loss,
            {
                "x": x,
                "states": recorder.exposed_states,
                "new_states": recorder.new_states,
                "reads": [[read for _, read in step_reads] for step_reads in reads],
            },
            unconnected_gradients="zero",
        )
        size = layer.cell.state_size
        self.states = [
            pack_states(size, [s.numpy() for s in flat]) for flat in recorder.exposed_states
        ]
        self.state_grads = [
            pack_states(size, _total_grads(after, new, keep))
            for after, new, keep in zip(
                grads["states"], grads["new_states"], self._step_masks, strict=True
            )
        ]
        self.input_grads = grads["x"].numpy() if x.dtype.kind == "f" else None
        self._tracked = self._tracked_state_index()
        self.grad_norms = np.array(
            [np.linalg.norm(flatten(g)[self._tracked]) for g in self.state_grads]
        )
        self.param_grads_by_step = self._param_grads(reads, grads["reads"])
        self._jacobians = None

    # -- reading the tape ------------------------------------------------------------------------
    def _group_records(self) -> dict[int, list]:
        """``{t: [records]}``: each record under step t's scope (or a sub-scope of it)."""
        step_of = {loop.step_scope(self.layer.name, t): t for t in range(self.steps)}
        by_step: dict[int, list] = {t: [] for t in range(self.steps)}
        for record in self.tape.records:
            scope = record.scope
            while scope and scope not in step_of:
                scope = scope.rpartition("/")[0]  # "rnn/t3/states" -> "rnn/t3" -> "rnn" -> ""
            if scope:
                by_step[step_of[scope]].append(record)
        return by_step

    def _param_grads(self, reads, read_grads) -> dict[str, np.ndarray]:
        by_name: dict[str, np.ndarray] = {}
        for t, (step_reads, grads) in enumerate(zip(reads, read_grads, strict=True)):
            for (weight, _), grad in zip(step_reads, grads, strict=True):
                if weight.name not in by_name:
                    by_name[weight.name] = np.zeros((self.steps, *weight.shape), weight.dtype)
                by_name[weight.name][t] += grad.numpy()
        return by_name

    def _tracked_state_index(self) -> int:
        """Flat index of the first state of the (last) cell: the h of grad_norms and Jacobians."""
        cell = self.layer.cell
        if isinstance(cell, StackedRNNCells):
            total = len(state_shapes(cell.state_size))
            return total - len(state_shapes(cell.cells[-1].state_size))
        return 0

    def records_by_step(self) -> dict[int, list]:
        """``{t: [records]}``: the tape's records of step t, read from their name scopes."""
        return {t: list(records) for t, records in self._by_step.items()}

    # -- Jacobians dh_t / dh_{t-1} -------------------------------------------------------------
    def _cell_jacobians(self, t: int, x_t: np.ndarray, flat_before: list) -> np.ndarray:
        """(batch, n, n): d state_k(t)[i] / d state_k(t-1)[j] per row, other states held fixed.

        Each row is repeated n times and replica i asks for the gradient of output unit i, so
        one forward and one backward pass of the cell give every row of every Jacobian.
        """
        cell, k = self.layer.cell, self._tracked
        batch = x_t.shape[0]
        n = int(np.prod(flat_before[k].shape[1:]))
        repeated = [mg.tensor(np.repeat(s, n, axis=0)) for s in flat_before]  # (B·n, ...)
        kwargs = {}
        if self._constants is not None:
            constants = self._constants
            constants = constants if isinstance(constants, list | tuple) else [constants]
            kwargs["constants"] = [
                mg.tensor(np.repeat(np.asarray(c), n, axis=0)) for c in constants
            ]
        if call_accepts(cell, "training"):
            kwargs["training"] = False
        size = cell.state_size
        with mg.GradientTape() as tape:
            tape.watch(repeated[k])
            states = pack_states(size, repeated) if is_multiple_state(size) else [repeated[0]]
            _, new_states = cell.call(mg.tensor(np.repeat(x_t, n, axis=0)), states, **kwargs)
            new_k = flatten(new_states)[k]
        selector = np.tile(np.eye(n, dtype=new_k.dtype), (batch, 1)).reshape(new_k.shape)
        grad = tape.gradient(new_k, repeated[k], output_gradients=selector)
        jac = np.zeros((batch * n, n)) if grad is None else grad.numpy().reshape(batch * n, n)
        jac = jac.reshape(batch, n, n)  # [b, i, j] = d new[b, i] / d old[b, j]
        keep = self._step_masks[t]
        if keep is not None:
            jac[~keep] = np.eye(n)  # a masked row carries its state: the identity
        return jac

    def _all_jacobians(self) -> list[np.ndarray]:
        if self._jacobians is None:
            flat_before = self._states_before
            self._jacobians = []
            for t, x_t in enumerate(self._step_inputs):
                self._jacobians.append(self._cell_jacobians(t, x_t, flat_before))
                flat_before = flatten(self.states[t])
        return self._jacobians

    def jacobian_singular_values(self, t: int) -> np.ndarray:
        """(batch, units): the singular values of dh_t/dh_{t-1} per row, descending."""
        if not 0 <= t < self.steps:
            raise ValueError(f"t must be a step in [0, {self.steps}), received {t}")
        return np.linalg.svd(self._all_jacobians()[t], compute_uv=False)

    def jacobian_norms(self) -> np.ndarray:
        """(T,): the spectral norm of dh_t/dh_{t-1}, averaged over the batch (t = 0 is with
        respect to the initial state; a masked row's Jacobian is the identity)."""
        return np.array([self.jacobian_singular_values(t)[:, 0].mean() for t in range(self.steps)])

    # -- plotting -------------------------------------------------------------------------------
    def plot(self, path=None):
        """A matplotlib Figure of ``grad_norms`` and ``jacobian_norms()`` against t (log scale),
        saved to ``path`` when given. matplotlib is an optional extra."""
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError(
                "BPTTTrace.plot needs matplotlib, an optional extra: install it with "
                "pip install 'minigrad[plot]' (or pip install matplotlib)"
            ) from None
        figure = Figure(figsize=(7, 4), layout="constrained")
        ax = figure.subplots()
        t = np.arange(self.steps)
        ax.semilogy(t, np.maximum(self.grad_norms, 1e-30), label="||dL/dh_t||")
        ax.semilogy(t, self.jacobian_norms(), label="||dh_t/dh_{t-1}|| (spectral, batch mean)")
        ax.set_xlabel("step t (processing order)")
        ax.set_title(f"BPTT through {self.layer.name}: loss {self.loss:.4g}")
        ax.legend()
        if path is not None:
            figure.savefig(path)
        return figure


def _total_grads(after: list, new: list, keep: np.ndarray | None) -> list[np.ndarray]:
    """The total gradient of each state after a step: on a kept row, that of the cell's new state
    (``after``'s paths, through the masking, and those inside the step); on a masked row, that of
    the carried state (``after``), the cell's result being discarded there."""
    totals = []
    for g_after, g_new in zip(after, new, strict=True):
        g_after, g_new = g_after.numpy(), g_new.numpy()
        if keep is None:
            totals.append(g_new)
        else:
            rows = keep.reshape(keep.shape + (1,) * (g_new.ndim - 1))
            totals.append(np.where(rows, g_new, g_after))
    return totals
