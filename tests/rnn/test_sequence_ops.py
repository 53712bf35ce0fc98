"""The fused sequence ops ``mg.simple_rnn_sequence``, ``mg.lstm_sequence`` and ``mg.gru_sequence``
against the numpy loops of ``minigrad/recurrent_reference.py`` (values and every gradient), their
multi-threaded kernels against the single-threaded ones, and their errors.

The layer-level comparison with the per-step loop, feature by feature, is in ``test_fused.py``.
The ``kernels``-marked tests use small shapes and also pass with ``NUMBA_DISABLE_JIT=1``."""

import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad import recurrent_kernels as rk
from minigrad import recurrent_reference as ref
from minigrad import thread_pool

B, T, D, H = 5, 6, 3, 4


def close(got, expected):
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-12)


def arrays(gates, seed=0, bias_shape=None):
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(B, T, D)),
        "h0": rng.normal(size=(B, H)),
        "c0": rng.normal(size=(B, H)),
        "W": 0.5 * rng.normal(size=(D, gates * H)),
        "U": 0.5 * rng.normal(size=(H, gates * H)),
        "b": 0.5 * rng.normal(size=bias_shape or (gates * H,)),
        "dys": rng.normal(size=(B, T, H)),
        "dh": rng.normal(size=(B, H)),
        "dc": rng.normal(size=(B, H)),
    }


def padded_mask():
    mask = np.ones((B, T), dtype=bool)
    mask[0, 4:] = False  # right padding
    mask[1, :2] = False  # left padding
    mask[2, 3] = False  # a hole
    mask[3] = False  # nothing kept
    return mask


def tape_gradients(op, inputs, upstream, **options):
    """Run ``op(*inputs)`` under a tape; return its outputs and d(sum(out * upstream))/d(inputs)."""
    tensors = [mg.tensor(a) for a in inputs]
    with mg.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        outputs = op(*tensors, **options)
        loss = mg.sum(mg.stack([mg.sum(o * u) for o, u in zip(outputs, upstream, strict=True)]))
    return [o.numpy() for o in outputs], [g.numpy() for g in tape.gradient(loss, tensors)]


def time_major(t):
    return mg.transpose(t, (1, 0, 2))


def keep(mask):
    return None if mask is None else mask.T  # (T, B), as the ops take it


def simple_rnn(x, h0, W, U, b, mask=None, **options):
    """What the layer computes: ``x (B, T, D) -> (hs (B, T, H), h_T)``, the input projection
    with ordinary ops and the recurrence with the fused op."""
    xw = time_major(x) @ W + b  # (T, B, H)
    hs, h = mg.simple_rnn_sequence(xw, h0, U, mask=keep(mask), **options)
    return time_major(hs), h


def lstm(x, h0, c0, W, U, b, mask=None, **options):
    hs, h, c = mg.lstm_sequence(time_major(x) @ W + b, h0, c0, U, mask=keep(mask), **options)
    return time_major(hs), h, c


def gru(x, h0, W, U, b, mask=None, reset_after=True, **options):
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, None)
    xw = time_major(x) @ W + b_in
    options.update(reset_after=reset_after, mask=keep(mask))
    hs, h = mg.gru_sequence(xw, h0, U, b_rec, **options)
    return time_major(hs), h


@pytest.mark.kernels
@pytest.mark.parametrize("masked", [False, True])
def test_simple_rnn_sequence_matches_numpy_bptt(masked):
    d = arrays(gates=1)
    mask = padded_mask() if masked else None
    dys = np.zeros_like(d["dys"]) if masked else d["dys"]  # masked: hs are states, not outputs
    ys, h, cache = ref.simple_rnn_forward(d["x"], d["h0"], d["W"], d["U"], d["b"], mask=mask)
    expected = ref.simple_rnn_backward(dys, d["dh"], cache)  # dx, dh0, dW, dU, db

    inputs = [d["x"], d["h0"], d["W"], d["U"], d["b"]]
    (hs, h_last), grads = tape_gradients(simple_rnn, inputs, [dys, d["dh"]], mask=mask)
    close(h_last, h)
    if not masked:
        close(hs, ys)
    for got, want in zip(grads, expected, strict=True):
        close(got, want)


@pytest.mark.kernels
@pytest.mark.parametrize("masked", [False, True])
def test_lstm_sequence_matches_numpy_bptt(masked):
    d = arrays(gates=4)
    mask = padded_mask() if masked else None
    dys = np.zeros_like(d["dys"]) if masked else d["dys"]
    ys, h, c, cache = ref.lstm_forward(d["x"], d["h0"], d["c0"], d["W"], d["U"], d["b"], mask=mask)
    expected = ref.lstm_backward(dys, d["dh"], d["dc"], cache)  # dx, dh0, dc0, dW, dU, db

    inputs = [d["x"], d["h0"], d["c0"], d["W"], d["U"], d["b"]]
    (hs, h_last, c_last), grads = tape_gradients(lstm, inputs, [dys, d["dh"], d["dc"]], mask=mask)
    close(h_last, h)
    close(c_last, c)
    if not masked:
        close(hs, ys)
    for got, want in zip(grads, expected, strict=True):
        close(got, want)


@pytest.mark.kernels
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_gru_sequence_matches_the_numpy_forward_and_finite_differences(reset_after, masked):
    d = arrays(gates=3, bias_shape=(2, 3 * H) if reset_after else None)
    mask = padded_mask() if masked else None
    ys, h, _ = ref.gru_forward(d["x"], d["h0"], d["W"], d["U"], d["b"], reset_after, mask=mask)
    inputs = [d[k] for k in ("x", "h0", "W", "U", "b")]
    hs, h_last = gru(*map(mg.tensor, inputs), mask=mask, reset_after=reset_after)
    close(h_last.numpy(), h)
    if not masked:
        close(hs.numpy(), ys)

    def loss(*tensors):
        hs, h_last = gru(*tensors, mask=mask, reset_after=reset_after)
        return mg.sum(hs * d["dys"]) + mg.sum(h_last * d["dh"])

    mg.gradcheck(loss, inputs)


@pytest.mark.kernels
def test_go_backwards_and_truncation_match_their_definitions():
    """go_backwards = the reversed input; truncate_gradient=k = no gradient across the
    boundaries, so the gradient of h0 vanishes once the loss reads only the last k steps."""
    d = arrays(gates=4)
    x, h0, c0, w, u, b = (mg.tensor(d[k]) for k in ("x", "h0", "c0", "W", "U", "b"))
    backwards = lstm(x, h0, c0, w, u, b, go_backwards=True)
    forwards = lstm(mg.tensor(d["x"][:, ::-1]), h0, c0, w, u, b)
    for got, want in zip(backwards, forwards, strict=True):
        close(got.numpy(), want.numpy())

    with mg.GradientTape() as tape:
        tape.watch(h0)
        tape.watch(x)
        _, h_last, _ = lstm(x, h0, c0, w, u, b, truncate_gradient=2)
        loss = mg.sum(h_last)
    dx, dh0 = tape.gradient(loss, [x, h0])
    assert np.all(dh0.numpy() == 0.0)
    assert np.all(dx.numpy()[:, :4] == 0.0) and np.all(dx.numpy()[:, 4:] != 0.0)  # T = 6 = 3*2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_split_rows_without_changing_a_bit(dtype):
    """The rows of a batch are independent: any thread count gives bitwise the same result."""
    batch, steps, units = 13, 7, 9  # 13 rows: blocks of 4 and a leftover row
    rng = np.random.default_rng(3)
    xw = rng.normal(size=(steps, batch, 4 * units)).astype(dtype)
    u = (0.3 * rng.normal(size=(units, 4 * units))).astype(dtype)
    u_t = np.ascontiguousarray(u.T)
    keep = rng.random((steps, batch)) > 0.2
    dhs = rng.normal(size=(steps, batch, units)).astype(dtype)
    runs = []
    for threads in (1, 2, 3):
        hs = np.zeros((steps + 1, batch, units), dtype)
        cs = np.zeros_like(hs)
        acts = np.zeros((steps, batch, 4 * units), dtype)
        tanh_c = np.zeros((steps, batch, units), dtype)
        args = (xw, u, keep, hs, cs, acts, tanh_c)
        thread_pool.run_split(rk._lstm_forward, args, batch, threads, grain=4)
        dz = np.empty_like(acts)
        dh, dc = np.zeros((batch, units), dtype), np.ones((batch, units), dtype)
        args = (u_t, keep, cs, acts, tanh_c, dhs, dz, dh, dc, 3)
        thread_pool.run_split(rk._lstm_backward, args, batch, threads, grain=4)
        runs.append((hs, cs, dz, dh, dc))
    for other in runs[1:]:
        for a, b in zip(runs[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("reset_after", [True, False])
def test_weights_in_any_memory_layout_give_the_same_result(reset_after):
    """A recurrent kernel stored transposed (Fortran order) or as a strided view is read as the
    same matrix."""
    d = arrays(gates=3)
    rng = np.random.default_rng(1)
    xw, h0 = mg.tensor(rng.normal(size=(T, B, 3 * H))), mg.tensor(d["h0"])
    strided = np.zeros((H, 6 * H))
    strided[:, ::2] = d["U"]
    results = [
        mg.gru_sequence(xw, h0, mg.Tensor(u), reset_after=reset_after)
        for u in (d["U"], np.asfortranarray(d["U"]), strided[:, ::2])
    ]
    for hs, h_last in results[1:]:
        np.testing.assert_array_equal(hs.numpy(), results[0][0].numpy())
        np.testing.assert_array_equal(h_last.numpy(), results[0][1].numpy())


def test_threads_for_uses_one_thread_for_small_sequences():
    assert rk.threads_for(batch=4, steps=1000, units=256, width=1024) == 1  # one row block
    assert rk.threads_for(batch=8, steps=2, units=8, width=32) == 1  # too little work
    big = rk.threads_for(batch=64, steps=100, units=128, width=512)
    assert big == thread_pool.num_threads()  # enough work and rows: every thread of the pool


def test_small_sequences_run_their_kernels_on_the_calling_thread_alone(monkeypatch):
    """With one thread (threads_for), each kernel runs once, over all rows, on the calling
    thread: no hand-off to the pool, whose wake-ups cost more than a small sequence's work."""
    calls = []
    for name in ("_lstm_forward", "_lstm_backward"):
        kernel = getattr(rk, name)

        def recording(*arguments, kernel=kernel):
            calls.append((threading.get_ident(), arguments[-2], arguments[-1]))  # thread, i0, i1
            kernel(*arguments)

        monkeypatch.setattr(rk, name, recording)
    d = arrays(4)
    xw, h0 = mg.tensor(np.swapaxes(d["x"] @ d["W"], 0, 1)), mg.tensor(d["h0"])  # (T, B, 4H)
    with mg.GradientTape() as tape:
        tape.watch([xw, h0])
        hs, h, c = mg.lstm_sequence(xw, h0, mg.tensor(d["c0"]), mg.tensor(d["U"]))
        loss = mg.sum(hs) + mg.sum(c)
    tape.gradient(loss, [xw, h0])
    batch = d["h0"].shape[0]
    assert calls == [(threading.get_ident(), 0, batch)] * 2


def test_errors_name_what_was_received():
    xw, h0, u = mg.zeros((3, 2, 5)), mg.zeros((2, 5)), mg.zeros((5, 5))  # T=3, B=2, H=5
    with pytest.raises(ValueError, match=r"xw must be \(time, batch, 1 \* units\).*\(3, 5\)"):
        mg.simple_rnn_sequence(mg.zeros((3, 5)), h0, u)
    with pytest.raises(ValueError, match=r"at least one time step, received shape \(0, 2, 5\)"):
        mg.simple_rnn_sequence(mg.zeros((0, 2, 5)), h0, u)
    with pytest.raises(ValueError, match=r"xw must have shape \(3, 2, 20\).*\(3, 2, 5\)"):
        mg.lstm_sequence(xw, h0, h0, mg.zeros((5, 20)))
    with pytest.raises(ValueError, match=r"initial state 0 must have shape \(2, 5\).*\(3, 5\)"):
        mg.simple_rnn_sequence(xw, mg.zeros((3, 5)), u)
    with pytest.raises(ValueError, match=r"recurrent_bias must have shape \(15,\).*\(2, 15\)"):
        mg.gru_sequence(mg.zeros((3, 2, 15)), h0, mg.zeros((5, 15)), mg.zeros((2, 15)))
    with pytest.raises(ValueError, match="a recurrent_bias needs reset_after=True"):
        mg.gru_sequence(
            mg.zeros((3, 2, 15)), h0, mg.zeros((5, 15)), mg.zeros(15), reset_after=False
        )
    with pytest.raises(TypeError, match="recurrent_kernel float64"):
        mg.simple_rnn_sequence(xw, h0, mg.cast(u, "float64"))
    with pytest.raises(TypeError, match="must be a Tensor"):
        mg.simple_rnn_sequence(xw, np.zeros((2, 5)), u)
    with pytest.raises(ValueError, match=r"mask must have shape .* \(3, 2\).*\(2, 3\)"):
        mg.simple_rnn_sequence(xw, h0, u, mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="truncate_gradient must be >= 1, received 0"):
        mg.simple_rnn_sequence(xw, h0, u, truncate_gradient=0)
