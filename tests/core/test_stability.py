"""sigmoid, softmax and log_softmax stay finite, with finite gradients, at inputs of ±1000."""

import numpy as np
import pytest

import minigrad as mg


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", [mg.sigmoid, mg.softmax, mg.log_softmax])
def test_extreme_inputs(fn, dtype):
    x = mg.Variable(np.array([[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0]]), dtype=dtype)
    with mg.GradientTape() as tape:
        y = fn(x)
        loss = mg.sum(y * mg.tensor(np.array([[1.0, 2.0, 3.0]]), dtype=dtype))
    grad = tape.gradient(loss, x)
    assert np.isfinite(y.numpy()).all() and np.isfinite(grad.numpy()).all()
    assert y.dtype == grad.dtype == np.dtype(dtype)


def test_extreme_values_are_right():
    np.testing.assert_array_equal(mg.sigmoid(mg.tensor([-1000.0, 1000.0])).numpy(), [0.0, 1.0])
    np.testing.assert_allclose(
        mg.softmax(mg.tensor([1000.0, 1000.0, -1000.0])).numpy(), [0.5, 0.5, 0.0]
    )
    np.testing.assert_allclose(
        mg.log_softmax(mg.tensor([1000.0, 0.0])).numpy(), [0.0, -1000.0], rtol=1e-6
    )
