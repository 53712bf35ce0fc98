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
W) (the ``param_grads_by_step``, which add up over t to dL/dW). The Jacobians dh_t/dh_{t-1}
are written out in numpy for the built-in cells (``jacobians.py``, all steps and rows at once);
for any other cell they come from calling the cell again on the recorded step inputs and states,
under a tape (``method="tape"`` asks for that way for every cell: it is the reference).
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.nest import flatten, map_structure
from minigrad_layers.inspect import figures
from minigrad_layers.inspect.in_model import (
    as_input_tensors,
    check_model_call,
    compiled_loss_fn,
    find_recurrent_layer,
)
from minigrad_layers.inspect.jacobians import (
    analytic_jacobians,
    has_analytic_jacobian,
    spectral_norms,
    tape_jacobians,
)
from minigrad_layers.inspect.observer import StepRecorder, recording_steps
from minigrad_layers.layers.rnn import loop
from minigrad_layers.layers.rnn.base import RNN
from minigrad_layers.layers.rnn.protocol import (
    pack_states,
    state_shapes,
)
from minigrad_layers.layers.rnn.stacked import StackedRNNCells

_CHUNK_ELEMENTS = 4_000_000  # Jacobian entries per chunk of jacobian_norms (32 MB in float64)


def trace_bptt(
    layer, x, loss_fn, mask=None, initial_state=None, constants=None, *, model=None
) -> BPTTTrace:
    """Call the RNN ``layer`` on ``x`` under a tape, compute ``loss = loss_fn(output)`` (a scalar
    Tensor; ``output`` is what the layer returns) and return the :class:`BPTTTrace`.

    ``mask``, ``initial_state`` and ``constants`` are passed to the layer's call as given.

    With ``model``, the layer is traced where it runs (``in_model.py``): ``layer`` is a
    recurrent layer of the model (the object or its name; one direction of a Bidirectional),
    ``x`` the model's input, ``output`` what the model returns, and ``loss_fn`` may be the
    targets ``y`` instead, scored with the model's compiled loss.
    """
    if model is not None:
        layer = find_recurrent_layer(model, layer)
        check_model_call(layer, model, mask, initial_state, constants)
        if not callable(loss_fn):
            loss_fn = compiled_loss_fn(model, loss_fn)
    elif not isinstance(layer, RNN):
        raise TypeError(
            f"trace_bptt expects a recurrent layer (RNN, SimpleRNN, LSTM, GRU), received "
            f"{type(layer).__name__}; for Bidirectional trace its forward_layer/backward_layer, "
            "or pass model= to trace a layer inside a model"
        )
    if model is None:
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
    else:
        x = as_input_tensors(x)
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
        for leaf in flatten(x):
            if leaf.dtype.kind == "f":
                tape.watch(leaf)
        with recording_steps(layer) as recorder:
            output = layer(x, **call_kwargs) if model is None else model(x)
        loss = loss_fn(output)
    if not isinstance(loss, mg.Tensor) or loss.size != 1:
        shape = getattr(loss, "shape", type(loss).__name__)
        raise ValueError(f"loss_fn must return a scalar Tensor, it returned {shape}")
    if model is not None and not recorder.step_inputs:
        raise ValueError(
            f"trace_bptt: model {model.name!r} did not call {layer.name!r} on a sequence"
        )
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

    Jacobians (``jacobians.py``): ``jacobian(t)`` ``(batch, n, n)``, ``∂h_t/∂h_{t-1}`` for the
    state of ``grad_norms`` with the other states held fixed (an LSTM's ``c_{t-1}``; the identity
    on a masked row); ``jacobian_singular_values(t)``; ``jacobian_norms()``, their spectral norms
    averaged over the batch. Figure data (``figures.py``): ``singular_value_band()``,
    ``grad_heatmap()``, ``gate_activations()``, ``gate_saturation()``,
    ``weight_grad_contributions()``; ``plot()`` draws them.
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
        self.input_grads = map_structure(
            lambda leaf, grad: grad.numpy() if leaf.dtype.kind == "f" else None, x, grads["x"]
        )
        self._tracked = self._tracked_state_index()
        self.grad_norms = np.array(
            [np.linalg.norm(flatten(g)[self._tracked]) for g in self.state_grads]
        )
        self.param_grads_by_step = self._param_grads(reads, grads["reads"])
        self._norms: dict[str, np.ndarray] = {}
        self._find_analytic_cell()

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
    def jacobian(self, t: int, method: str = "auto") -> np.ndarray:
        """``(batch, n, n)``: ``∂h_t/∂h_{t-1}`` per row, ``[b, i, j] = ∂h_t[b, i]/∂h_{t-1}[b, j]``,
        for the state of ``grad_norms`` (the other states held fixed: an LSTM's ``c_{t-1}``; a
        masked row's is the identity), in float64.

        ``method="auto"``: written out for the built-in cells (``jacobians.py``), else from the
        tape; ``"tape"``: always from the tape, calling the cell again on the recorded step.
        """
        if not 0 <= t < self.steps:
            raise ValueError(f"t must be a step in [0, {self.steps}), received {t}")
        if method not in ("auto", "tape"):
            raise ValueError(f"method must be 'auto' or 'tape', received {method!r}")
        return self._jacobians(range(t, t + 1), method)[0]

    def _jacobians(self, steps: range, method: str) -> np.ndarray:
        """``(len(steps), batch, n, n)``: the Jacobians of consecutive ``steps``."""
        analytic = None
        if method == "auto" and self._analytic_input is not None:
            x = np.concatenate([self._analytic_input(t) for t in steps])  # (S·B, D)
            before = [np.concatenate(s) for s in zip(*map(self._flat_before, steps), strict=True)]
            analytic = analytic_jacobians(self._analytic_cell, x, before[self._analytic_states])
        if analytic is None:
            jacobians = np.stack(
                [
                    tape_jacobians(
                        self.layer.cell,
                        self._step_inputs[t],
                        self._flat_before(t),
                        self._tracked,
                        self._constants,
                    )
                    for t in steps
                ]
            )
        else:
            jacobians = analytic.reshape(len(steps), -1, *analytic.shape[1:])
        for k, t in enumerate(steps):
            keep = self._step_masks[t]
            if keep is not None:
                jacobians[k][~keep] = np.eye(jacobians.shape[-1])  # a masked row carries h
        return jacobians

    def _flat_before(self, t: int) -> list[np.ndarray]:
        """The flat states step t starts from."""
        return self._states_before if t == 0 else flatten(self.states[t - 1])

    def _find_analytic_cell(self) -> None:
        """The cell whose Jacobian is reported, when it has one written out (``jacobians.py``):
        the layer's cell, or the last of stacked cells, whose step input is then the output of
        the cell below, which for a built-in cell is its new first state."""
        cell, step_input = self.layer.cell, self._step_inputs.__getitem__
        if isinstance(cell, StackedRNNCells) and len(cell.cells) > 1:
            below = cell.cells[-2]
            below_h = self._tracked - len(state_shapes(below.state_size))
            step_input = lambda t: flatten(self.states[t])[below_h]  # noqa: E731
            cell = cell.cells[-1] if has_analytic_jacobian(below) else None
        elif isinstance(cell, StackedRNNCells):
            cell = cell.cells[0]
        covered = cell is not None and has_analytic_jacobian(cell)
        self._analytic_cell = cell
        self._analytic_input = step_input if covered else None
        count = len(state_shapes(cell.state_size)) if covered else 0
        self._analytic_states = slice(self._tracked, self._tracked + count)

    def jacobian_singular_values(self, t: int, method: str = "auto") -> np.ndarray:
        """(batch, units): the singular values of dh_t/dh_{t-1} per row, descending."""
        return np.linalg.svd(self.jacobian(t, method), compute_uv=False)

    def jacobian_norms(self, method: str = "auto") -> np.ndarray:
        """(T,): the spectral norm of dh_t/dh_{t-1}, averaged over the batch (t = 0 is with
        respect to the initial state; a masked row's Jacobian is the identity).

        Computed in chunks of steps (a few tens of MB of Jacobians at a time) with
        ``jacobians.spectral_norms``; ``method`` as in :meth:`jacobian`. For an LSTM(128) over
        300 steps of 16 rows that is some 4 s of CPU, most of it the symmetric eigenvalue
        solves, against some 20 s for the tape's Jacobians and a full SVD per step
        (``benchmarks/bench_jacobians.py``).
        """
        if method not in ("auto", "tape"):
            raise ValueError(f"method must be 'auto' or 'tape', received {method!r}")
        if method not in self._norms:
            batch, n = self._step_inputs[0].shape[0], self._tracked_size()
            chunk = max(1, _CHUNK_ELEMENTS // (batch * n * n))
            norms = []
            for start in range(0, self.steps, chunk):
                jacobians = self._jacobians(range(start, min(start + chunk, self.steps)), method)
                per_row = spectral_norms(jacobians.reshape(-1, n, n))
                norms.append(per_row.reshape(len(jacobians), batch).mean(axis=1))
            self._norms[method] = np.concatenate(norms)
        return self._norms[method].copy()

    def _tracked_size(self) -> int:
        return int(np.prod(self._states_before[self._tracked].shape[1:]))

    # -- figure data (figures.py) --------------------------------------------------------------
    def singular_value_band(self) -> np.ndarray:
        """``(T, 3)``: batch means of each row's smallest, median and largest singular value of
        dh_t/dh_{t-1}, per step."""
        return figures.singular_value_band(self)

    def grad_heatmap(self) -> np.ndarray:
        """``(T, units)``: ``|dL/dh_t|`` averaged over the batch (the state of grad_norms)."""
        return figures.grad_heatmap(self)

    def gate_activations(self) -> dict[str, np.ndarray]:
        """``{gate: (T, batch, units)}`` for LSTM and GRU cells (NaN on rows a step masked)."""
        return figures.gate_activations(self)

    def gate_saturation(self, tolerance: float = 0.05) -> dict[str, np.ndarray]:
        """``{gate: (T,)}``: the fraction of kept (row, unit) pairs whose gate slope is at most
        ``tolerance`` times its activation's largest slope."""
        return figures.gate_saturation(self, tolerance)

    def weight_grad_contributions(self) -> dict[str, np.ndarray]:
        """``{weight name: (T,)}``: the norm of each step's term of the weight's gradient."""
        return figures.weight_grad_contributions(self)

    def plot(self, path=None):
        """A matplotlib Figure of ``grad_norms`` beside the singular value band and
        ``jacobian_norms()`` (log scale), the heatmap of ``|dL/dh_t|`` and, for LSTM and GRU
        cells, the gate saturation, and the weights' per-step gradient contributions; saved to
        ``path`` when given. matplotlib is an optional extra."""
        return figures.plot(self, path)


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
