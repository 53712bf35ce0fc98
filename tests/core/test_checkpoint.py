"""mg.checkpoint: the same gradients as without it, one record instead of fn's, fn run again."""

import numpy as np
import pytest

import minigrad as mg

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


def _step(w, u):
    """A recurrent step h_t = tanh(x_t W + h_{t-1} U), capturing W and U."""
    return lambda h, x: mg.tanh(mg.matmul(x, w) + mg.matmul(h, u))


def _run(h, xs, step, segment):
    """The chain over all steps, each ``segment`` steps one checkpoint (None: no checkpoints)."""

    def run_segment(h, chunk):
        for x in chunk:
            h = step(h, x)
        return h

    if segment is None:
        return run_segment(h, xs)
    for start in range(0, len(xs), segment):
        h = mg.checkpoint(run_segment, h, xs[start : start + segment])
    return h


def test_gradients_equal_those_of_full_storage_and_the_tape_holds_one_op_per_segment():
    w, u = mg.Variable(rng.normal(size=(3, 4))), mg.Variable(0.5 * rng.normal(size=(4, 4)))
    xs = [mg.tensor(rng.normal(size=(2, 3))) for _ in range(12)]
    h0 = mg.tensor(rng.normal(size=(2, 4)))
    results = {}
    for segment in (None, 4, 5):
        with mg.GradientTape() as tape:
            tape.watch([h0, *xs])
            loss = mg.sum(_run(h0, xs, _step(w, u), segment) ** 2)
        results[segment] = [g.numpy() for g in tape.gradient(loss, [w, u, h0, xs[0]])]
        if segment is not None:
            assert [r.op for r in tape.records].count("checkpoint") == -(-12 // segment)
    for segment in (4, 5):
        for a, b in zip(results[segment], results[None], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_fn_runs_again_in_the_backward_sweep_and_not_without_a_tape():
    calls = []
    w = mg.Variable([2.0])

    def fn(x):
        calls.append(1)
        return x * w

    x = mg.tensor([3.0])
    assert mg.checkpoint(fn, x).numpy().tolist() == [6.0] and len(calls) == 1
    with mg.GradientTape() as tape:
        y = mg.checkpoint(fn, x)
    assert len(calls) == 2
    assert tape.gradient(y, w).numpy().tolist() == [3.0] and len(calls) == 3


def test_nested_outputs_and_finite_differences():
    w = mg.Variable(rng.normal(size=(3,)))

    def fn(pair):
        a, b = pair
        return {"sum": mg.sum(a * w), "product": a * b}

    def loss(a, b):
        out = mg.checkpoint(fn, (a, b))
        return out["sum"] + mg.sum(mg.tanh(out["product"]))

    report = mg.gradcheck(loss, [rng.normal(size=3), rng.normal(size=3)])
    assert report.passed, report


def test_a_bad_fn_is_named():
    with pytest.raises(TypeError, match="expects a function first, received ndarray"):
        mg.checkpoint(np.ones(2), mg.tensor([1.0]))
    with mg.GradientTape(), pytest.raises(TypeError, match="must return a Tensor.*returned int"):
        mg.checkpoint(lambda x: 3, mg.Variable([1.0]))


def test_outputs_own_their_memory_so_fn_buffers_are_freed():
    """An output that is a view (h_T = hs[-1]) would keep the whole buffer of fn alive on the
    tape: the checkpoint's outputs are compact copies, with the same gradient."""
    x = mg.Variable(np.arange(4000.0).reshape(1000, 4) / 4000)
    with mg.GradientTape() as tape:
        last = mg.checkpoint(lambda v: mg.tanh(v * 2.0)[-1], x)
        loss = mg.sum(last)
    assert last._data.base is None and last.shape == (4,)
    expected = np.zeros((1000, 4))
    expected[-1] = 2.0 * (1.0 - np.tanh(2.0 * x.numpy()[-1]) ** 2)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), expected, rtol=1e-6)
