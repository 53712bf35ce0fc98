"""Fused recurrent ops: a whole sequence of a built-in cell as ONE tape record.

Each op runs a SimpleRNN, LSTM or GRU cell (tanh and sigmoid, Keras weight layouts and gate
orders) over every step of ``x (B, T, D)`` and is followed by its gradient rule, a hand-written
backpropagation through time. What the per-step loop records as ~5-20 ops per step is here one
``Record`` whose ``attrs`` keep the forward's caches; the recurrence runs in the Numba kernels
of ``recurrent_kernels.py``, everything else in a few large matmuls::

    xw = x @ kernel + bias                  # all T steps in one product, (T, B, G*H)
    hs = recurrence(xw, recurrent_kernel)   # the only sequential part (a kernel)
    # backward: dz = BPTT(dhs) (a kernel), then
    dx = dz @ kernel.T;  dkernel = x.T @ dz;  drecurrent = hs[:-1].T @ dz;  dbias = sum(dz)

The RNN layer takes these ops for built-in cells when it may (``minigrad_layers/rnn/fused.py``);
its per-step loop stays the reference they are tested against.

Common arguments: ``x (B, T, D)``, initial states ``(B, H)``, ``kernel (D, G*H)``,
``recurrent_kernel (H, G*H)``, ``bias`` or None; ``mask`` None or a ``(B, T)`` bool array
(True = the step updates the row; a masked step carries the states unchanged and gets exactly
zero gradient); ``go_backwards`` (steps run from the last to the first and the outputs come in
that processing order); ``truncate_gradient`` None or k (no gradient crosses from processing step
t to t - 1 when ``t % k == 0``). Each op returns ``hs (B, T, H)``, the carried ``h`` after every
step in processing order, followed by the final states.

>>> import minigrad as mg
>>> x = mg.ones((2, 3, 4))
>>> h0, w, u = mg.zeros((2, 5)), mg.ones((4, 5)) * 0.1, mg.zeros((5, 5))
>>> hs, h_last = mg.simple_rnn_sequence(x, h0, w, u)
>>> hs.shape, round(float(h_last.numpy()[0, 0]), 4)  # tanh(4 * 0.1)
((2, 3, 5), 0.3799)
"""

from __future__ import annotations

import numpy as np

from minigrad import kernels
from minigrad import recurrent_kernels as rk
from minigrad.tape import _active_tapes, gradient_rule, record
from minigrad.tensor import Tensor

# ---------------------------------------------------------------------------------------------
# shared preparation and the shared tail of every gradient rule
# ---------------------------------------------------------------------------------------------


def _check(op: str, x, states, kernel, recurrent_kernel, bias, gates: int, bias_rows: int):
    """Tensors of one float dtype with the shapes of the docstring, else a clear error."""
    named = {"x": x, "kernel": kernel, "recurrent_kernel": recurrent_kernel}
    named.update({f"initial state {i}": s for i, s in enumerate(states)})
    if bias is not None:
        named["bias"] = bias
    for name, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"mg.{op}: {name} must be a Tensor, received {type(t).__name__}")
    dtypes = {t._data.dtype for t in named.values()}
    if len(dtypes) != 1 or next(iter(dtypes)) not in (np.float32, np.float64):
        raise TypeError(
            f"mg.{op}: every operand must be float32, or every one float64; received "
            + ", ".join(f"{name} {t._data.dtype}" for name, t in named.items())
        )
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(
            f"mg.{op}: x must be (batch, time, features) with at least one time step, received "
            f"shape {x.shape}"
        )
    (batch, _, features), units = x.shape, recurrent_kernel.shape[0]
    expected = {
        "kernel": (features, gates * units),
        "recurrent_kernel": (units, gates * units),
        **{f"initial state {i}": (batch, units) for i in range(len(states))},
    }
    if bias is not None:
        expected["bias"] = (gates * units,) if bias_rows == 1 else (bias_rows, gates * units)
    for name, shape in expected.items():
        if named[name].shape != shape:
            raise ValueError(
                f"mg.{op}: {name} must have shape {shape} for x of shape {x.shape} and "
                f"{units} units, received {named[name].shape}"
            )


def _time_major(x: np.ndarray, go_backwards: bool) -> np.ndarray:
    """``x (B, T, ...)`` as a contiguous ``(T, B, ...)`` in processing order."""
    x_tm = np.swapaxes(x, 0, 1)
    return np.ascontiguousarray(x_tm[::-1] if go_backwards else x_tm)


def _keep(mask, batch: int, steps: int, go_backwards: bool) -> np.ndarray:
    """The mask as a contiguous ``(T, B)`` bool array in processing order (all True if None)."""
    if mask is None:
        return np.ones((steps, batch), dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (batch, steps):
        raise ValueError(
            f"the mask must have shape (batch, timesteps) = {(batch, steps)}, received {mask.shape}"
        )
    return _time_major(mask, go_backwards)


def _truncate(truncate_gradient) -> int:
    if truncate_gradient is None:
        return 0
    if isinstance(truncate_gradient, bool) or not isinstance(truncate_gradient, int | np.integer):
        raise TypeError(f"truncate_gradient must be None or an int, received {truncate_gradient!r}")
    if truncate_gradient < 1:
        raise ValueError(f"truncate_gradient must be >= 1, received {truncate_gradient}")
    return int(truncate_gradient)


def _input_projection(x_tm: np.ndarray, kernel: np.ndarray, bias) -> np.ndarray:
    """``xw (T, B, G*H) = x_t @ kernel + bias`` for all steps in one matmul."""
    steps, batch, features = x_tm.shape
    xw = kernels.matmul(x_tm.reshape(steps * batch, features), kernel)
    if bias is not None:
        xw += bias
    return xw.reshape(steps, batch, kernel.shape[1])


def _batch_major(hs: np.ndarray) -> np.ndarray:
    """The carried states after each step, ``hs[1:] (T, B, H)``, as ``(B, T, H)``."""
    return np.ascontiguousarray(np.swapaxes(hs[1:], 0, 1))


def _output_gradients(d_outputs: np.ndarray, d_last: np.ndarray) -> np.ndarray:
    """dL/d``hs[1:]`` time-major: the outputs' gradient plus the final state's at the end."""
    dhs = _time_major(d_outputs, go_backwards=False)
    dhs[-1] += d_last
    return dhs


def _flat(a: np.ndarray) -> np.ndarray:
    """``(T, B, n)`` as ``(T * B, n)``."""
    return a.reshape(-1, a.shape[-1])


def _prepare(op, x, states, weights, gates, bias_rows, mask, go_backwards, truncate_gradient):
    """Check the operands; return the attributes every gradient rule reads: ``x_tm (T, B, D)``
    and ``keep (T, B)`` in processing order, ``go_backwards`` and ``truncate`` (0 for none)."""
    _check(op, x, states, *weights, gates, bias_rows)
    batch, steps, _ = x.shape
    return {
        "x_tm": _time_major(x._data, go_backwards),
        "keep": _keep(mask, batch, steps, go_backwards),
        "go_backwards": bool(go_backwards),
        "truncate": _truncate(truncate_gradient),
    }


def _record(op, x, states, weights, outputs, attrs, **caches) -> None:
    """One Record with inputs ``(x, *states, kernel, recurrent_kernel[, bias])``."""
    kernel, recurrent_kernel, bias = weights
    inputs = (x, *states, kernel, recurrent_kernel) + (() if bias is None else (bias,))
    record(op, inputs, outputs, **attrs, **caches)


def _data(t: Tensor | None) -> np.ndarray | None:
    return None if t is None else t._data


def _gradients(rec, dxw, dstates, recurrent_pairs, bias_parts) -> tuple:
    """The rule's result ``(dx, *dstates, dkernel, drecurrent_kernel[, dbias])``.

    ``dxw (T, B, G*H)`` is dL/d(x_t @ kernel + b_in); ``recurrent_pairs`` are ``(left, right)``
    with ``drecurrent_kernel = concat(left.T @ right)`` over all steps (``left = hs[:-1]``, the
    state each step read); ``bias_parts`` the per-step gradients whose step sums make up the
    bias's rows (``[dxw]``, or ``[dxw, dp]`` for a bias of two rows)."""
    n, needs, attrs = len(dstates), rec.needs_grad, rec.attrs
    kernel = rec.inputs[n + 1]._data
    dx = dkernel = drecurrent = dbias = None
    if needs[0]:
        dx_tm = kernels.matmul(_flat(dxw), kernel.T).reshape(attrs["x_tm"].shape)
        if attrs["go_backwards"]:
            dx_tm = dx_tm[::-1]
        dx = np.ascontiguousarray(np.swapaxes(dx_tm, 0, 1))  # (B, T, D)
    if needs[n + 1]:
        dkernel = kernels.matmul(_flat(attrs["x_tm"]).T, _flat(dxw))  # (D, G*H)
    if needs[n + 2]:
        products = [kernels.matmul(_flat(a).T, _flat(b)) for a, b in recurrent_pairs]
        drecurrent = products[0] if len(products) == 1 else np.concatenate(products, axis=1)
    has_bias = len(rec.inputs) == n + 4
    if has_bias and needs[n + 3]:
        sums = [kernels.sum_leading(part, 2) for part in bias_parts]
        dbias = sums[0] if len(sums) == 1 else np.stack(sums)
    return (dx, *dstates, dkernel, drecurrent) + ((dbias,) if has_bias else ())


# ---------------------------------------------------------------------------------------------
# the three ops, each followed by its gradient rule
# ---------------------------------------------------------------------------------------------


def simple_rnn_sequence(
    x,
    h0,
    kernel,
    recurrent_kernel,
    bias=None,
    *,
    mask=None,
    go_backwards=False,
    truncate_gradient=None,
):
    """``h_t = tanh(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)`` over all steps;
    returns ``(hs (B, T, H), h_T)``. Weights ``(D, H)``, ``(H, H)``, ``(H,)``."""
    weights = (kernel, recurrent_kernel, bias)
    op = "simple_rnn_sequence"
    attrs = _prepare(op, x, [h0], weights, 1, 1, mask, go_backwards, truncate_gradient)
    xw = _input_projection(attrs["x_tm"], kernel._data, _data(bias))
    hs = rk.simple_rnn_forward(xw, recurrent_kernel._data, attrs["keep"], h0._data)
    outputs = (Tensor(_batch_major(hs)), Tensor(hs[-1].copy()))
    if _active_tapes:
        _record(op, x, [h0], weights, outputs, attrs, hs=hs)
    return outputs


@gradient_rule("simple_rnn_sequence", multiple_outputs=True)
def _simple_rnn_sequence_grad(rec, gs):
    """BPTT: dh += dL/dh_t; dz_t = dh (1 - h_t^2); dh = dz_t @ U^T; weights from all dz_t."""
    a = rec.attrs
    dhs = _output_gradients(gs[0], gs[1])
    dz, dh0 = rk.simple_rnn_backward(rec.inputs[3]._data, a["keep"], a["hs"], dhs, a["truncate"])
    return _gradients(rec, dz, [dh0], [(a["hs"][:-1], dz)], [dz])


def lstm_sequence(
    x,
    h0,
    c0,
    kernel,
    recurrent_kernel,
    bias=None,
    *,
    mask=None,
    go_backwards=False,
    truncate_gradient=None,
):
    """The LSTM (gates i f c o: ``z = x_t @ kernel + bias + h_{t-1} @ recurrent_kernel``,
    ``c_t = σ(z_f) c_{t-1} + σ(z_i) tanh(z_c)``, ``h_t = σ(z_o) tanh(c_t)``) over all steps;
    returns ``(hs (B, T, H), h_T, c_T)``. Weights ``(D, 4H)``, ``(H, 4H)``, ``(4H,)``."""
    weights = (kernel, recurrent_kernel, bias)
    op = "lstm_sequence"
    attrs = _prepare(op, x, [h0, c0], weights, 4, 1, mask, go_backwards, truncate_gradient)
    xw = _input_projection(attrs["x_tm"], kernel._data, _data(bias))
    hs, cs, acts, tanh_c = rk.lstm_forward(
        xw, recurrent_kernel._data, attrs["keep"], h0._data, c0._data
    )
    outputs = (Tensor(_batch_major(hs)), Tensor(hs[-1].copy()), Tensor(cs[-1].copy()))
    if _active_tapes:
        _record(op, x, [h0, c0], weights, outputs, attrs, hs=hs, cs=cs, acts=acts, tanh_c=tanh_c)
    return outputs


@gradient_rule("lstm_sequence", multiple_outputs=True)
def _lstm_sequence_grad(rec, gs):
    """BPTT carrying dh and dc (see ``recurrent_kernels._lstm_backward``); weights from dz."""
    a = rec.attrs
    dhs = _output_gradients(gs[0], gs[1])
    dz, dh0, dc0 = rk.lstm_backward(
        rec.inputs[4]._data, a["keep"], a["cs"], a["acts"], a["tanh_c"], dhs, gs[2], a["truncate"]
    )
    return _gradients(rec, dz, [dh0, dc0], [(a["hs"][:-1], dz)], [dz])


def gru_sequence(
    x,
    h0,
    kernel,
    recurrent_kernel,
    bias=None,
    *,
    reset_after=True,
    mask=None,
    go_backwards=False,
    truncate_gradient=None,
):
    """The GRU (gates z r h, ``h_t = hh + z (h_{t-1} - hh)``; see ``mgl.GRUCell`` for both
    variants) over all steps; returns ``(hs (B, T, H), h_T)``. Weights ``(D, 3H)``, ``(H, 3H)``,
    and ``bias (2, 3H)`` (input and recurrent rows) when ``reset_after``, else ``(3H,)``."""
    weights = (kernel, recurrent_kernel, bias)
    op, bias_rows = "gru_sequence", 2 if reset_after else 1
    attrs = _prepare(op, x, [h0], weights, 3, bias_rows, mask, go_backwards, truncate_gradient)
    u, keep = recurrent_kernel._data, attrs["keep"]
    if reset_after:  # the input bias joins xw, the recurrent one the kernel's h @ U
        b_in = None if bias is None else bias._data[0]
        b_rec = np.zeros(u.shape[1], u.dtype) if bias is None else bias._data[1].copy()
        xw = _input_projection(attrs["x_tm"], kernel._data, b_in)
        hs, acts, caches = rk.gru_forward(xw, u, b_rec, keep, h0._data)
    else:
        xw = _input_projection(attrs["x_tm"], kernel._data, _data(bias))
        hs, acts, caches = rk.gru_forward_reset_before(xw, u, keep, h0._data)
    outputs = (Tensor(_batch_major(hs)), Tensor(hs[-1].copy()))
    if _active_tapes:
        _record(
            op,
            x,
            [h0],
            weights,
            outputs,
            attrs,
            reset_after=reset_after,
            hs=hs,
            acts=acts,
            caches=caches,
        )
    return outputs


@gradient_rule("gru_sequence", multiple_outputs=True)
def _gru_sequence_grad(rec, gs):
    """BPTT (see ``recurrent_kernels._gru_backward*``); weights from the per-step gradients.
    ``caches`` is ``p_h`` (reset_after) or ``r h_{t-1}`` (reset_after=False)."""
    a = rec.attrs
    u, keep, hs, acts, caches = rec.inputs[3]._data, a["keep"], a["hs"], a["acts"], a["caches"]
    dhs = _output_gradients(gs[0], gs[1])
    if a["reset_after"]:
        dxw, dp, dh0 = rk.gru_backward(u, keep, hs, acts, caches, dhs, a["truncate"])
        return _gradients(rec, dxw, [dh0], [(hs[:-1], dp)], [dxw, dp])
    dzr, dhh, dh0 = rk.gru_backward_reset_before(u, keep, hs, acts, dhs, a["truncate"])
    dxw = np.concatenate([dzr, dhh], axis=2)  # (T, B, 3H)
    return _gradients(rec, dxw, [dh0], [(hs[:-1], dzr), (caches, dhh)], [dxw])
