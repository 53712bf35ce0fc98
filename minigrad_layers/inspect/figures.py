"""What ``BPTTTrace.plot()`` draws, as numpy arrays first (so it can be checked and reused), then
the figure. matplotlib is an optional extra, imported only by :func:`plot`.

* :func:`singular_value_band` ``(T, 3)``: per step, the batch means of each row's smallest,
  median and largest singular value of ``dh_t/dh_{t-1}``: how much the step stretches and
  squashes the gradient (the largest column is ``jacobian_norms()``). Full SVDs of every step:
  the slow part, seconds for hundreds of steps of 128 units.
* :func:`grad_heatmap` ``(T, units)``: ``|dL/dh_t|`` averaged over the batch (the state of
  ``grad_norms``), to see which units carry gradient back to which steps.
* :func:`gate_activations` ``{gate: (T, batch, units)}`` and :func:`gate_saturation`
  ``{gate: (T,)}`` for LSTM and GRU cells (``gates.py`` names the gates): a unit is *saturated*
  at a step when its activation's slope there is at most ``tolerance`` times the activation's
  largest slope (found on ``[-1, 1]``), i.e. the gate passes almost no gradient; the saturation
  is the fraction of saturated (row, unit) pairs among the rows the step kept.
* :func:`weight_grad_contributions` ``{weight: (T,)}``: ``||∂L/∂W at step t||``, the norm of step
  t's term of the sum ``dL/dW = Σ_t ∂L/∂W|_t`` (``param_grads_by_step``): which steps the
  weight's gradient actually comes from.

>>> import numpy as np, minigrad as mg, minigrad_layers as mgl
>>> trace = mgl.inspect.trace_bptt(mgl.GRU(3), np.ones((2, 5, 4)), lambda out: mg.sum(out))
>>> trace.singular_value_band().shape, trace.grad_heatmap().shape
((5, 3), (5, 3))
>>> {gate: s.shape for gate, s in trace.gate_saturation().items()}
{'z': (5,), 'r': (5,), 'h': (5,)}
"""

from __future__ import annotations

import numpy as np

from minigrad.nest import flatten
from minigrad_layers.inspect.gates import GATE_NAMES, step_gates, value_and_slope

_CHUNK_ELEMENTS = 4_000_000  # Jacobian entries per chunk of SVDs (32 MB in float64)


def singular_value_band(trace) -> np.ndarray:
    """``(T, 3)``: per step, the batch means of each row's smallest, median and largest singular
    value of ``dh_t/dh_{t-1}``."""
    batch, n = trace._step_inputs[0].shape[0], trace._tracked_size()
    chunk = max(1, _CHUNK_ELEMENTS // (batch * n * n))
    band = []
    for start in range(0, trace.steps, chunk):
        jacobians = trace._jacobians(range(start, min(start + chunk, trace.steps)), "auto")
        values = np.linalg.svd(jacobians, compute_uv=False)  # (steps, batch, n), descending
        rows = np.stack([values[..., -1], np.median(values, axis=-1), values[..., 0]], axis=-1)
        band.append(rows.mean(axis=1))  # (steps, 3)
    return np.concatenate(band)


def grad_heatmap(trace) -> np.ndarray:
    """``(T, units)``: ``|dL/dh_t|`` averaged over the batch, for the state of ``grad_norms``."""
    tracked = [flatten(grads)[trace._tracked] for grads in trace.state_grads]
    return np.stack([np.abs(g).reshape(g.shape[0], -1).mean(axis=0) for g in tracked])


def gate_activations(trace) -> dict[str, np.ndarray]:
    """``{gate: (T, batch, units)}``: the gates of the traced LSTM or GRU cell at every step (the
    last cell when cells are stacked); NaN on the rows a step did not keep."""
    cell = _gated_cell(trace)
    per_step = [_gates_at(trace, t) for t in range(trace.steps)]
    activations = {}
    for name in GATE_NAMES[type(cell)]:
        values = np.stack([gates[name][0] for gates in per_step])  # (T, B, H)
        for t, keep in enumerate(trace._step_masks):
            if keep is not None:
                values[t][~keep] = np.nan
        activations[name] = values
    return activations


def gate_saturation(trace, tolerance: float = 0.05) -> dict[str, np.ndarray]:
    """``{gate: (T,)}``: the fraction of saturated (row, unit) pairs per step, over kept rows
    (NaN for a step that kept none)."""
    cell = _gated_cell(trace)
    if not 0.0 < tolerance < 1.0:
        raise ValueError(f"gate_saturation: tolerance must be in (0, 1), received {tolerance}")
    per_step = [_gates_at(trace, t) for t in range(trace.steps)]
    probe = np.linspace(-1.0, 1.0, 201)
    saturation = {}
    for name in GATE_NAMES[type(cell)]:
        activation = (
            cell.activation if name in ("c", "h", "act(c_t)") else cell.recurrent_activation
        )
        peak = np.max(value_and_slope(activation, probe)[1])
        fractions = []
        for t, gates in enumerate(per_step):
            saturated = np.abs(gates[name][1]) <= tolerance * peak  # (B, H)
            keep = trace._step_masks[t]
            kept = saturated if keep is None else saturated[keep]
            fractions.append(kept.mean() if kept.size else np.nan)
        saturation[name] = np.array(fractions)
    return saturation


def weight_grad_contributions(trace) -> dict[str, np.ndarray]:
    """``{weight name: (T,)}``: the Frobenius norm of each step's contribution to the weight's
    gradient, in processing order."""
    return {
        name: np.sqrt((per_step.reshape(per_step.shape[0], -1) ** 2).sum(axis=1))
        for name, per_step in trace.param_grads_by_step.items()
    }


def _gated_cell(trace):
    cell = trace._analytic_cell
    if trace._analytic_input is None or type(cell) not in GATE_NAMES:
        raise TypeError(
            f"gate activations are read for built-in LSTM and GRU cells; layer "
            f"{trace.layer.name!r} reports the Jacobians of {type(cell).__name__}"
        )
    return cell


def _gates_at(trace, t: int) -> dict:
    before = trace._flat_before(t)[trace._analytic_states]
    return step_gates(trace._analytic_cell, trace._analytic_input(t), before)


def plot(trace, path=None):
    """A matplotlib Figure: ``grad_norms`` beside the singular value band and the Jacobian
    norms (log scale), the heatmap of ``|dL/dh_t|``, for LSTM and GRU cells the gate saturation
    over t, and each weight's per-step gradient contributions. Saved to ``path`` when given."""
    try:
        from matplotlib.colors import LogNorm
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "BPTTTrace.plot needs matplotlib, an optional extra: install it with "
            "pip install 'minigrad[plot]' (or pip install matplotlib)"
        ) from None
    gated = trace._analytic_input is not None and type(trace._analytic_cell) in GATE_NAMES
    figure = Figure(figsize=(7, 11.5 if gated else 9), layout="constrained")
    axes = figure.subplots(4 if gated else 3, 1, sharex=True)
    t = np.arange(trace.steps)

    band = singular_value_band(trace)
    ax = axes[0]
    ax.semilogy(t, np.maximum(trace.grad_norms, 1e-30), label="||dL/dh_t||")
    ax.fill_between(t, band[:, 0], band[:, 2], alpha=0.25, label="σ(dh_t/dh_{t-1}): min–max")
    ax.semilogy(t, band[:, 1], label="σ median")
    ax.semilogy(t, band[:, 2], label="||dh_t/dh_{t-1}|| (spectral, batch mean)")
    ax.set_title(f"BPTT through {trace.layer.name}: loss {trace.loss:.4g}")
    ax.legend(fontsize="small")

    heat = np.maximum(grad_heatmap(trace).T, 1e-30)  # (units, T)
    image = axes[1].imshow(heat, aspect="auto", origin="lower", norm=LogNorm(), cmap="viridis")
    axes[1].set_ylabel("unit")
    axes[1].set_title("|dL/dh_t|, batch mean")
    figure.colorbar(image, ax=axes[1])

    if gated:
        for name, fraction in gate_saturation(trace).items():
            axes[2].plot(t, fraction, label=name)
        axes[2].set_ylim(0.0, 1.0)
        axes[2].set_ylabel("saturated fraction")
        axes[2].legend(fontsize="small")
    for name, norms in weight_grad_contributions(trace).items():
        axes[-1].semilogy(t, np.maximum(norms, 1e-30), label=name.rsplit("/", 1)[-1])
    axes[-1].set_ylabel("||step t's part of dL/dW||")
    axes[-1].legend(fontsize="small")
    axes[-1].set_xlabel("step t (processing order)")
    if path is not None:
        figure.savefig(path)
    return figure
