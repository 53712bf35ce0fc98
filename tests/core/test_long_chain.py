"""A 3,000-step recurrence differentiates (no recursion) and matches a hand-written backward."""

import numpy as np

import minigrad as mg


def test_3000_step_tanh_chain_matches_numpy_backward():
    steps, batch, units = 3000, 2, 4
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.4, (units, units))
    xs = rng.normal(0, 0.5, (steps, batch, units))

    weight = mg.Variable(w, dtype="float64")
    with mg.GradientTape() as tape:
        h = mg.zeros((batch, units), dtype="float64")
        for t in range(steps):
            h = mg.tanh(h @ weight + xs[t])
        loss = mg.sum(h)
    grad = tape.gradient(loss, weight).numpy()

    hs = [np.zeros((batch, units))]  # numpy forward, caching every state
    for t in range(steps):
        hs.append(np.tanh(hs[-1] @ w + xs[t]))
    dw, dh = np.zeros_like(w), np.ones((batch, units))
    for t in reversed(range(steps)):  # backward: dh flows from step t+1 into step t
        dz = dh * (1 - hs[t + 1] ** 2)
        dw += hs[t].T @ dz
        dh = dz @ w.T
    np.testing.assert_allclose(h.numpy(), hs[-1], rtol=1e-12)
    np.testing.assert_allclose(grad, dw, rtol=1e-9, atol=1e-12)
    assert len(tape.records) == 3 * steps + 1
