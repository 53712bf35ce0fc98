"""Fused recurrent ops: the recurrence of a built-in cell over a whole sequence as ONE record.

A recurrent layer's work splits in two. The input's part of every step, ``xw_t = x_t @ kernel +
bias``, does not depend on the state, so all T steps are one large matmul, made with ordinary
ops before these are called. What is left is sequential, the recurrence, and each op below runs
it for one cell (tanh and sigmoid; Keras weight layouts and gate orders), followed by its
gradient rule: backpropagation through time written by hand. What the per-step loop records as
5-20 ops per step is here one ``Record`` whose ``attrs`` keep the forward's caches; both loops
run in the Numba kernels of ``recurrent_kernels.py``::

    hs = recurrence(xw, recurrent_kernel)              # forward (a kernel)
    dxw = BPTT(dL/dhs)                                 # backward (a kernel), then one matmul:
    drecurrent_kernel = sum_t h_{t-1}.T @ dxw_t        # (the GRU's candidate differs slightly)

The RNN layer takes these ops for built-in cells when it may
(``minigrad_layers/layers/rnn/fused.py``); its per-step loop and the plain-numpy loops of
``recurrent_reference.py`` (the same recurrences and BPTT, one line per equation) are the
references they are tested against.

Everything is time-major. Common arguments: ``xw (T, B, G*H)`` (G gates of H units), initial
states ``(B, H)``, ``recurrent_kernel (H, G*H)``; ``mask`` None or a ``(T, B)`` bool array (True =
the step updates the row; a masked step carries the states unchanged and gets exactly zero
gradient); ``go_backwards`` (steps run from ``xw[T-1]`` down to ``xw[0]``, and the outputs come
in that processing order); ``truncate_gradient`` None or k (no gradient crosses from processing
step t to t - 1 when ``t % k == 0``). Each op returns ``hs (T, B, H)``, the carried ``h`` after
every step in processing order, then the final states.

>>> import minigrad as mg
>>> x, kernel = mg.ones((3, 2, 4)), mg.ones((4, 5)) * 0.1  # 3 steps, batch 2
>>> h0, recurrent_kernel = mg.zeros((2, 5)), mg.zeros((5, 5))
>>> hs, h_last = mg.simple_rnn_sequence(x @ kernel, h0, recurrent_kernel)
>>> hs.shape, round(float(h_last.numpy()[0, 0]), 4)  # tanh(4 * 0.1)
((3, 2, 5), 0.3799)
"""

from __future__ import annotations

import numpy as np

from minigrad import kernels, matmul_kernels
from minigrad import recurrent_kernels as rk
from minigrad.tape import gradient_rule, is_recording, record
from minigrad.tensor import Tensor

# ---------------------------------------------------------------------------------------------
# shared preparation, recording and the shared tail of every gradient rule
# ---------------------------------------------------------------------------------------------


def _check(op: str, xw, states, recurrent_kernel, recurrent_bias, gates: int) -> None:
    """Tensors of one float dtype with the shapes of the module docstring, else a clear error."""
    named = {"xw": xw, "recurrent_kernel": recurrent_kernel}
    named.update({f"initial state {i}": s for i, s in enumerate(states)})
    if recurrent_bias is not None:
        named["recurrent_bias"] = recurrent_bias
    for name, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"mg.{op}: {name} must be a Tensor, received {type(t).__name__}")
    dtypes = {t._data.dtype for t in named.values()}
    if len(dtypes) != 1 or next(iter(dtypes)) not in (np.float32, np.float64):
        raise TypeError(
            f"mg.{op}: every operand must be float32, or every one float64; received "
            + ", ".join(f"{name} {t._data.dtype}" for name, t in named.items())
        )
    if xw.ndim != 3 or xw.shape[0] == 0:
        raise ValueError(
            f"mg.{op}: xw must be (time, batch, {gates} * units) with at least one time step, "
            f"received shape {xw.shape}"
        )
    (_, batch, _), units = xw.shape, recurrent_kernel.shape[0]
    expected = {
        "xw": xw.shape[:2] + (gates * units,),
        "recurrent_kernel": (units, gates * units),
        **{f"initial state {i}": (batch, units) for i in range(len(states))},
    }
    if recurrent_bias is not None:
        expected["recurrent_bias"] = (gates * units,)
    for name, shape in expected.items():
        if named[name].shape != shape:
            raise ValueError(
                f"mg.{op}: {name} must have shape {shape} for {units} units (the first axis "
                f"of recurrent_kernel) and xw of shape {xw.shape}, received {named[name].shape}"
            )


def _keep(mask, steps: int, batch: int, go_backwards: bool) -> np.ndarray:
    """The mask as a contiguous ``(T, B)`` bool array in processing order (all True if None)."""
    if mask is None:
        return np.ones((steps, batch), dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (steps, batch):
        raise ValueError(
            f"the mask must have shape (timesteps, batch) = {(steps, batch)}, received {mask.shape}"
        )
    return np.ascontiguousarray(mask[::-1] if go_backwards else mask)


def _truncate(truncate_gradient) -> int:
    """``truncate_gradient`` as the kernels take it: 0 for none, else k >= 1."""
    if truncate_gradient is None:
        return 0
    if isinstance(truncate_gradient, bool) or not isinstance(truncate_gradient, int | np.integer):
        raise TypeError(f"truncate_gradient must be None or an int, received {truncate_gradient!r}")
    if truncate_gradient < 1:
        raise ValueError(f"truncate_gradient must be >= 1, received {truncate_gradient}")
    return int(truncate_gradient)


def _prepare(
    op, xw, states, recurrent_kernel, recurrent_bias, gates, mask, go_backwards, truncate_gradient
) -> tuple:
    """Check the operands; return ``xw`` as the kernels read it (contiguous, in processing
    order) and the attributes every gradient rule reads: ``keep (T, B)``, ``go_backwards`` and
    ``truncate``."""
    _check(op, xw, states, recurrent_kernel, recurrent_bias, gates)
    go_backwards = bool(go_backwards)
    steps, batch, _ = xw.shape
    attrs = {
        "keep": _keep(mask, steps, batch, go_backwards),
        "go_backwards": go_backwards,
        "truncate": _truncate(truncate_gradient),
    }
    data = xw._data[::-1] if go_backwards else xw._data
    return np.ascontiguousarray(data), attrs


def _record(op, xw, states, weights, outputs, attrs, **caches) -> None:
    """One Record with inputs ``(xw, *states, *weights)``."""
    record(op, (xw, *states, *weights), outputs, **attrs, **caches)


def _flat(a: np.ndarray) -> np.ndarray:
    """``(T, B, n)`` as ``(T * B, n)``."""
    return a.reshape(-1, a.shape[-1])


def _gradients(rec, dxw, dstates, recurrent_pairs, drecurrent_bias=None) -> tuple:
    """The rule's result ``(dxw, *dstates, drecurrent_kernel[, drecurrent_bias])``.

    ``dxw (T, B, G*H)`` is in processing order; ``recurrent_pairs`` are ``(left, right)`` with
    ``drecurrent_kernel = concat(left.T @ right)`` over all steps (``left = hs[:-1]``, the state
    each step read, for all but the GRU's candidate)."""
    n, needs = len(dstates), rec.needs_grad
    if rec.attrs["go_backwards"]:
        dxw = dxw[::-1]
    drecurrent = None
    if needs[n + 1]:
        products = [matmul_kernels.matmul(_flat(a).T, _flat(b)) for a, b in recurrent_pairs]
        drecurrent = products[0] if len(products) == 1 else np.concatenate(products, axis=1)
    bias = () if len(rec.inputs) == n + 2 else (drecurrent_bias,)
    return (dxw, *dstates, drecurrent, *bias)


def _outputs(hs: np.ndarray, *final) -> tuple:
    """``(hs[1:], *final)`` as Tensors: the step outputs (a view of the cache ``hs``) and copies
    of the final states."""
    return (Tensor(hs[1:]), *(Tensor(np.array(f)) for f in final))


# ---------------------------------------------------------------------------------------------
# the three ops, each followed by its gradient rule
# ---------------------------------------------------------------------------------------------


def simple_rnn_sequence(
    xw, h0, recurrent_kernel, *, mask=None, go_backwards=False, truncate_gradient=None
):
    """``h_t = tanh(xw_t + h_{t-1} @ recurrent_kernel)`` over all steps, ``xw (T, B, H)``;
    returns ``(hs (T, B, H), h_T)``."""
    op = "simple_rnn_sequence"
    xw_data, attrs = _prepare(
        op, xw, [h0], recurrent_kernel, None, 1, mask, go_backwards, truncate_gradient
    )
    hs = rk.simple_rnn_forward(xw_data, recurrent_kernel._data, attrs["keep"], h0._data)
    outputs = _outputs(hs, hs[-1])
    if is_recording():
        _record(op, xw, [h0], [recurrent_kernel], outputs, attrs, hs=hs)
    return outputs


@gradient_rule("simple_rnn_sequence", multiple_outputs=True)
def _simple_rnn_sequence_grad(rec, gs):
    """BPTT: dh += dL/dh_t; dxw_t = dh (1 - h_t^2); dh = dxw_t @ U^T; dU = sum h_{t-1}^T dxw_t."""
    a = rec.attrs
    u = rec.inputs[2]._data
    dz, dh0 = rk.simple_rnn_backward(u, a["keep"], a["hs"], gs[0], gs[1], a["truncate"])
    return _gradients(rec, dz, [dh0], [(a["hs"][:-1], dz)])


def lstm_sequence(
    xw, h0, c0, recurrent_kernel, *, mask=None, go_backwards=False, truncate_gradient=None
):
    """The LSTM over all steps, ``xw (T, B, 4H)`` in the gate order i f c o: with ``z = xw_t +
    h_{t-1} @ recurrent_kernel``, ``c_t = σ(z_f) c_{t-1} + σ(z_i) tanh(z_c)`` and ``h_t = σ(z_o)
    tanh(c_t)``; returns ``(hs (T, B, H), h_T, c_T)``."""
    op = "lstm_sequence"
    xw_data, attrs = _prepare(
        op, xw, [h0, c0], recurrent_kernel, None, 4, mask, go_backwards, truncate_gradient
    )
    u, keep = recurrent_kernel._data, attrs["keep"]
    hs, cs, acts, tanh_c = rk.lstm_forward(xw_data, u, keep, h0._data, c0._data)
    outputs = _outputs(hs, hs[-1], cs[-1])
    if is_recording():
        caches = {"hs": hs, "cs": cs, "acts": acts, "tanh_c": tanh_c}
        _record(op, xw, [h0, c0], [recurrent_kernel], outputs, attrs, **caches)
    return outputs


@gradient_rule("lstm_sequence", multiple_outputs=True)
def _lstm_sequence_grad(rec, gs):
    """BPTT carrying dh and dc (see ``recurrent_kernels._lstm_backward``); dU from every step."""
    a, (d_outputs, dh_last, dc_last) = rec.attrs, gs
    caches = (a["cs"], a["acts"], a["tanh_c"])
    dz, dh0, dc0 = rk.lstm_backward(
        rec.inputs[3]._data, a["keep"], *caches, d_outputs, dh_last, dc_last, a["truncate"]
    )
    return _gradients(rec, dz, [dh0, dc0], [(a["hs"][:-1], dz)])


def gru_sequence(
    xw,
    h0,
    recurrent_kernel,
    recurrent_bias=None,
    *,
    reset_after=True,
    mask=None,
    go_backwards=False,
    truncate_gradient=None,
):
    """The GRU over all steps, ``xw (T, B, 3H)`` in the gate order z r h (see ``mgl.GRUCell``
    for both variants); ``recurrent_bias (3H,)`` is the second row of the cell's bias when
    ``reset_after`` (it must be None otherwise). Returns ``(hs (T, B, H), h_T)``."""
    op = "gru_sequence"
    if recurrent_bias is not None and not reset_after:
        raise ValueError(
            "mg.gru_sequence: a recurrent_bias needs reset_after=True (with reset_after=False "
            "the GRU has only the input bias, which belongs in xw)"
        )
    xw_data, attrs = _prepare(
        op, xw, [h0], recurrent_kernel, recurrent_bias, 3, mask, go_backwards, truncate_gradient
    )
    u, keep = recurrent_kernel._data, attrs["keep"]
    if reset_after:
        b_rec = np.zeros(u.shape[1], u.dtype) if recurrent_bias is None else recurrent_bias._data
        hs, acts, candidate = rk.gru_forward(
            xw_data, u, np.ascontiguousarray(b_rec), keep, h0._data
        )
    else:
        hs, acts, candidate = rk.gru_forward_reset_before(xw_data, u, keep, h0._data)
    outputs = _outputs(hs, hs[-1])
    if is_recording():
        weights = [recurrent_kernel] + ([] if recurrent_bias is None else [recurrent_bias])
        caches = {"hs": hs, "acts": acts, "candidate": candidate}
        _record(op, xw, [h0], weights, outputs, attrs, reset_after=reset_after, **caches)
    return outputs


@gradient_rule("gru_sequence", multiple_outputs=True)
def _gru_sequence_grad(rec, gs):
    """BPTT (see ``recurrent_kernels._gru_backward*``). ``candidate`` is what the candidate read
    of the state: ``p_h = h_{t-1} @ U_h + b_rec_h`` with ``reset_after``, else ``r h_{t-1}``."""
    a = rec.attrs
    u, keep, hs, acts = rec.inputs[2]._data, a["keep"], a["hs"], a["acts"]
    dhs, dh_last, truncate = gs[0], gs[1], a["truncate"]
    if a["reset_after"]:
        dxw, dp, dh0 = rk.gru_backward(u, keep, hs, acts, a["candidate"], dhs, dh_last, truncate)
        return _gradients(rec, dxw, [dh0], [(hs[:-1], dp)], kernels.sum_leading(dp, 2))
    dzr, dhh, dh0 = rk.gru_backward_reset_before(u, keep, hs, acts, dhs, dh_last, truncate)
    dxw = np.concatenate([dzr, dhh], axis=2)  # (T, B, 3H)
    return _gradients(rec, dxw, [dh0], [(hs[:-1], dzr), (a["candidate"], dhh)])
