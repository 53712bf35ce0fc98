"""Real-time recurrent learning (Williams and Zipser 1989): a recurrent layer's weight gradients
computed forward in time, beside BPTT's backward sweep.

Write the carried states after step t as one vector ``s_t`` per example (the cell's states
flattened: ``h`` for SimpleRNN and GRU, ``[h, c]`` for LSTM; ``S`` numbers) and the cell's
weights as one vector ``theta`` (``P`` numbers). The step is ``s_t = F(x_t, s_{t-1}; theta)``.
RTRL carries the *influence matrix* ``M_t = ds_t / dtheta`` ``(S, P)`` along with the state::

    M_0 = 0                                   (the initial states do not depend on theta)
    M_t = J_t M_{t-1} + I_t                   J_t = dF/ds_{t-1} (S, S), I_t = dF/dtheta (S, P)
    dL/dtheta = sum_t (dL/dy_t) . M_t[h]      y_t = h_t, the output, is the first state

so every weight gradient is complete as soon as the last step is done, and nothing from the past
is stored: memory ``S P`` per example whatever the length T, against BPTT's ``T S`` stored
states, but time ``S^2 P`` per step (the product ``J_t M_{t-1}``) against BPTT's ``S P``. That
trade is what makes RTRL a teaching point and not a training method for large layers.

Here ``J_t`` and ``I_t`` are read off a tape around one call of the cell (one reverse pass per
state number and example), so any cell whose output is its first state works: the built-in
SimpleRNN, LSTM and GRU cells (both GRU variants). A masked step carries the state, so
``M_t = M_{t-1}`` for its rows. The loss's own gradients ``dL/dy_t`` (no recurrence in them) are
read first from ``loss_fn`` on the layer's outputs; a learner running online would receive them
step by step.

>>> import numpy as np, minigrad as mg, minigrad_layers as mgl
>>> mg.set_floatx("float64")
>>> layer = mgl.SimpleRNN(3, return_sequences=True)
>>> x = np.random.default_rng(0).normal(size=(2, 5, 4))
>>> result = mgl.inspect.rtrl_gradients(layer, x, lambda y: mg.sum(y * y))
>>> with mg.GradientTape() as tape:
...     loss = mg.sum(layer(x) ** 2)
>>> bptt = tape.gradient(loss, layer.cell.kernel)
>>> bool(np.allclose(result.gradients[layer.cell.kernel.name], bptt.numpy(), rtol=1e-10))
True
>>> mg.set_floatx("float32")
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import minigrad as mg
from minigrad.nest import flatten
from minigrad_layers.layers.rnn.base import RNN
from minigrad_layers.layers.rnn.protocol import pack_states


@dataclass
class RTRLResult:
    """What :func:`rtrl` computed.

    ``loss`` (float); ``gradients``: ``{weight.name: dL/dW}`` shaped like each weight;
    ``influence_bytes``: the size of the influence matrices ``M_t`` ``(B, S, P)`` carried
    along, the whole of RTRL's memory for the gradients.
    """

    loss: float
    gradients: dict[str, np.ndarray]
    influence_bytes: int


def rtrl_gradients(layer, x, loss_fn, mask=None, initial_state=None) -> RTRLResult:
    """The weight gradients of ``loss = loss_fn(layer(x))`` by real-time recurrent learning.

    ``layer``: an ``RNN`` (SimpleRNN, LSTM, GRU, or ``RNN`` of such a cell) with
    ``go_backwards=False``, ``stateful=False``, ``return_state=False`` and ``time_major=False``;
    ``loss_fn`` maps what the layer returns (the last output, or all outputs with
    ``return_sequences``) to a scalar Tensor; ``mask (B, T)`` and ``initial_state`` as the layer
    takes them.
    """
    _check_supported(layer)
    x = x if isinstance(x, mg.Tensor) else mg.tensor(x)
    if x.ndim != 3:
        raise ValueError(
            f"rtrl expects inputs of shape (batch, time, features), received {x.shape}"
        )
    batch, steps = x.shape[0], x.shape[1]
    layer_output = layer(x, mask=mask, initial_state=initial_state)  # builds the layer
    output_grads, loss = _output_gradients(layer, layer_output, loss_fn, steps)
    cell, weights = layer.cell, list(layer.cell.trainable_weights)
    keep = np.ones((batch, steps), bool) if mask is None else np.asarray(mask, dtype=bool)
    states = _initial_states(layer, x, initial_state)
    sizes = [int(np.prod(s.shape[1:])) for s in states]
    influence = np.zeros((batch, sum(sizes), sum(w.size for w in weights)))  # M_0 = 0
    gradient = np.zeros(influence.shape[2])
    for t in range(steps):
        new_states, jacobian, immediate = _step_jacobians(cell, x[:, t], states, weights, sizes)
        updated = np.einsum("bij,bjp->bip", jacobian, influence) + immediate  # J_t M + I_t
        rows = keep[:, t]
        influence[rows] = updated[rows]
        states = [
            mg.tensor(np.where(_column(rows, n), n.numpy(), o.numpy()))
            for n, o in zip(new_states, states, strict=True)
        ]
        h_influence = influence[:, : sizes[0]]  # d h_t / d theta: the output is the first state
        gradient += np.einsum("bi,bip->p", output_grads[:, t], h_influence)
    return RTRLResult(loss, _split(gradient, weights), influence.nbytes)


def _check_supported(layer) -> None:
    if not isinstance(layer, RNN):
        raise TypeError(
            f"rtrl expects a recurrent layer (RNN, SimpleRNN, LSTM, GRU), received "
            f"{type(layer).__name__}"
        )
    unsupported = [
        name
        for name in ("go_backwards", "stateful", "return_state", "time_major")
        if getattr(layer, name)
    ]
    if unsupported:
        raise ValueError(
            f"rtrl runs forward in time over a fresh state: layer {layer.name!r} has "
            f"{', '.join(f'{n}=True' for n in unsupported)}; expected all of go_backwards, "
            "stateful, return_state and time_major False"
        )
    if getattr(layer.cell, "dropout", 0) or getattr(layer.cell, "recurrent_dropout", 0):
        raise ValueError(f"rtrl needs a deterministic cell: layer {layer.name!r} has dropout")


def _output_gradients(layer, layer_output, loss_fn, steps: int) -> tuple[np.ndarray, float]:
    """``dL/dy_t`` ``(B, T, units)`` for every step's output, and the loss: ``loss_fn`` is
    applied to the layer's outputs taken as given (no path through the recurrence)."""
    output = mg.tensor(layer_output.numpy())
    with mg.GradientTape() as tape:
        tape.watch(output)
        loss = loss_fn(output)
    if not isinstance(loss, mg.Tensor) or loss.size != 1:
        shape = getattr(loss, "shape", type(loss).__name__)
        raise ValueError(f"loss_fn must return a scalar Tensor, it returned {shape}")
    grads = tape.gradient(loss, output, unconnected_gradients="zero").numpy()
    if not layer.return_sequences:  # only the last step's output reaches the loss
        steps_grads = np.zeros((grads.shape[0], steps, grads.shape[-1]))
        steps_grads[:, -1] = grads
        grads = steps_grads
    return grads, float(loss.numpy())


def _initial_states(layer, x, initial_state) -> list[mg.Tensor]:
    if initial_state is None:
        return flatten(layer.cell.get_initial_state(batch_size=x.shape[0], dtype=x.dtype))
    given = initial_state if isinstance(initial_state, list | tuple) else [initial_state]
    return [mg.tensor(np.asarray(s, dtype=x.dtype)) for s in flatten(given)]


def _step_jacobians(cell, x_t, states, weights, sizes):
    """One cell step and its Jacobians, per example: ``J_t (B, S, S)`` and ``I_t (B, S, P)``.

    Row ``(b, k)`` of both comes from one reverse pass seeded with a one-hot at state number
    ``k`` of example ``b`` (examples do not mix inside a step, but the weights are shared, so
    each example needs passes of its own)."""
    batch = x_t.shape[0]
    with mg.GradientTape(persistent=True) as tape:
        for s in states:
            tape.watch(s)
        output, new_states = cell(x_t, pack_states(cell.state_size, list(states)))
    new_states = flatten(new_states)
    if output is not new_states[0] and not np.array_equal(output.numpy(), new_states[0].numpy()):
        raise ValueError(
            f"rtrl follows the output through the first state: the output of cell "
            f"{cell.name!r} (shape {output.shape}) is not its first state (shape "
            f"{new_states[0].shape}), as it is for SimpleRNN, LSTM and GRU cells"
        )
    total = sum(sizes)
    jacobian = np.zeros((batch, total, total))
    immediate = np.zeros((batch, total, sum(w.size for w in weights)))
    offsets = np.cumsum([0, *sizes])
    for b in range(batch):
        for i, size in enumerate(sizes):
            for k in range(size):
                seed = [np.zeros(n.shape) for n in new_states]
                seed[i].reshape(batch, -1)[b, k] = 1.0
                grads = tape.gradient(
                    new_states,
                    [*states, *weights],
                    output_gradients=seed,
                    unconnected_gradients="zero",
                )
                row = offsets[i] + k
                jacobian[b, row] = np.concatenate(
                    [g.numpy()[b].ravel() for g in grads[: len(states)]]
                )
                immediate[b, row] = np.concatenate(
                    [g.numpy().ravel() for g in grads[len(states) :]]
                )
    return new_states, jacobian, immediate


def _column(rows: np.ndarray, like: mg.Tensor) -> np.ndarray:
    return rows.reshape((-1,) + (1,) * (like.ndim - 1))


def _split(gradient: np.ndarray, weights) -> dict[str, np.ndarray]:
    out, start = {}, 0
    for w in weights:
        out[w.name] = gradient[start : start + w.size].reshape(w.shape)
        start += w.size
    return out
