"""Check a function's tape gradients against central finite differences, in float64.

For each input element ``x_i``: ``numeric_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``; the
tape's gradient ``analytic_i`` must satisfy ``|analytic_i - numeric_i| <= atol + rtol |numeric_i|``.

>>> import minigrad as mg
>>> report = mg.gradcheck(lambda w: mg.sum(mg.tanh(w) ** 2), [[0.1, -0.4, 2.0]])
>>> report.passed
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minigrad.tape import GradientTape
from minigrad.tensor import Tensor, Variable, as_array


@dataclass
class GradcheckReport:
    """The worst disagreement found: its input position, element index and errors."""

    max_abs_error: float
    max_rel_error: float
    worst_input: int
    worst_index: tuple
    analytic: list
    numeric: list
    passed: bool

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"gradcheck {verdict}: max abs error {self.max_abs_error:.3e}, max rel error "
            f"{self.max_rel_error:.3e} at input {self.worst_input}, index {self.worst_index}"
        )


def _float64_copy(x) -> Tensor:
    data = np.array(as_array(x), dtype=np.float64)
    if isinstance(x, Variable):
        return Variable(data, name=x.name, trainable=True)
    return Tensor(data)


def _scalar(value, where: str) -> float:
    if not isinstance(value, Tensor) or value.size != 1:
        shape = getattr(value, "shape", type(value).__name__)
        raise ValueError(
            f"gradcheck needs f to return a scalar Tensor, {where} it returned {shape}"
        )
    return float(value.item())


def gradcheck(f, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4):
    """Compare the tape's gradients of scalar ``f(*inputs)`` with central differences.

    ``inputs`` is a list of arrays, Tensors or Variables; ``f`` is evaluated at float64 copies
    (build any layers inside it in float64, e.g. under ``mg.set_floatx("float64")``). Returns a
    :class:`GradcheckReport`; raises ``AssertionError`` naming the input and the index of the
    worst element when a gradient disagrees.
    """
    if not isinstance(inputs, list | tuple):
        raise TypeError(f"gradcheck expects a list of inputs, received {type(inputs).__name__}")
    xs = [_float64_copy(x) for x in inputs]
    with GradientTape() as tape:
        for x in xs:
            tape.watch(x)
        _scalar(y := f(*xs), "at the inputs")
    analytic = [
        np.zeros(x.shape) if g is None else g.numpy()
        for x, g in zip(xs, tape.gradient(y, xs), strict=True)
    ]
    numeric = []
    for x in xs:
        data = x._data
        grad = np.zeros(data.shape)
        for index in np.ndindex(data.shape):
            original = data[index]
            data[index] = original + eps
            plus = _scalar(f(*xs), f"at input + eps, index {index},")
            data[index] = original - eps
            minus = _scalar(f(*xs), f"at input - eps, index {index},")
            data[index] = original
            grad[index] = (plus - minus) / (2 * eps)
        numeric.append(grad)

    worst = (0.0, 0.0, 0, ())
    worst_excess = -np.inf
    for i, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        if a.size == 0:
            continue
        abs_err = np.abs(a - n)
        excess = abs_err - (atol + rtol * np.abs(n))
        k = np.unravel_index(np.argmax(excess), a.shape)
        if excess[k] > worst_excess:
            worst_excess = excess[k]
            rel = abs_err[k] / max(np.abs(n[k]), 1e-300)
            worst = (float(abs_err.max()), float(rel), i, tuple(int(j) for j in k))
    report = GradcheckReport(*worst, analytic, numeric, passed=bool(worst_excess <= 0))
    if not report.passed:
        i, k = report.worst_input, report.worst_index
        raise AssertionError(
            f"gradcheck failed for input {i} at index {k}: tape gradient {analytic[i][k]!r}, "
            f"finite difference {numeric[i][k]!r} (atol={atol}, rtol={rtol}). {report}"
        )
    return report
