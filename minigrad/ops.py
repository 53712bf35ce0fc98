"""The public functions: a small closed set of primitives, each followed by its gradient rule,
and the composites built from them (which need no rule of their own).

A primitive computes on plain arrays with the kernels (``kernels``, ``binary_kernels``,
``matmul_kernels``), wraps the result in a Tensor and, while a tape is active, records itself.
Its rule receives the Record and the upstream gradient ``g = dL/dout`` and returns ``dL/dinput``
for each input (``None`` where not needed). A rule may return a gradient in the broadcast shape:
the tape sums it back to the input's shape in one place (``tape.unbroadcast``).

Primitives: add subtract multiply divide power maximum minimum | negative exp log sqrt tanh sigmoid
relu abs | matmul | sum max cumsum | reshape transpose getitem concat unstack | where cast identity.
Composites: dot mean clip expand_dims squeeze stack split softmax log_softmax.
Constants (never recorded): zeros ones zeros_like ones_like one_hot argmax, comparisons,
stop_gradient. ``einsum`` (a primitive) has a module of its own, ``einsum_op.py``.

dtypes: float32 stays float32. Python and numpy operands adopt the Tensor's float dtype; two
Tensors of different float dtypes raise TypeError (cast one with ``mg.cast``).

>>> import minigrad as mg
>>> x = mg.tensor([[1.0, -2.0]])
>>> mg.relu(x).numpy(), mg.sum(x * 2, axis=1).numpy()
(array([[1., 0.]], dtype=float32), array([-2.], dtype=float32))
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from minigrad import binary_kernels, kernels, matmul_kernels
from minigrad.dtypes import as_dtype, floatx
from minigrad.tape import gradient_rule, is_recording, record
from minigrad.tensor import Tensor, as_tensor

# ---------------------------------------------------------------------------------------------
# operand handling
# ---------------------------------------------------------------------------------------------


def _to_tensor(x) -> Tensor:
    """An operand as a Tensor; a numpy array is wrapped without a copy (ops never write to it)."""
    return x if isinstance(x, Tensor) else as_tensor(x)


def _adopt(x, dtype: np.dtype) -> Tensor:
    """A Python or numpy operand converted straight to a float Tensor's dtype."""
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Expected a number or numeric array, received {type(x).__name__}")
    return Tensor(array.astype(dtype, copy=False))


def _pair(a, b) -> tuple[Tensor, Tensor]:
    """Two Tensors of one dtype. Non-Tensor operands adopt a float Tensor's dtype."""
    a_is, b_is = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is and b_is:
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
        if da.kind == "f" and db.kind == "f":
            raise TypeError(
                f"Cannot combine Tensors of dtypes {da} and {db}; minigrad never upcasts "
                "silently: cast one with mg.cast(x, dtype)"
            )
    else:
        if a_is and a._data.dtype.kind == "f":
            b = _adopt(b, a._data.dtype)
        elif b_is and b._data.dtype.kind == "f":
            a = _adopt(a, b._data.dtype)
        else:
            a, b = _to_tensor(a), _to_tensor(b)
        da, db = a._data.dtype, b._data.dtype
        if da == db:
            return a, b
    if da.kind == "f":  # float with int/bool: the int side takes the float dtype
        return a, Tensor(b._data.astype(da))
    if db.kind == "f":
        return Tensor(a._data.astype(db)), b
    return a, b  # int/bool mixes follow numpy's promotion


def _float_tensor(x, op: str) -> Tensor:
    """``x`` as a Tensor that must hold floats (Python numbers become the default float)."""
    t = x if isinstance(x, Tensor) else as_tensor(x)
    if t._data.dtype.kind != "f":
        if not isinstance(x, Tensor):
            return Tensor(t._data.astype(floatx()))
        raise TypeError(
            f"mg.{op} expects a float Tensor, received dtype {t._data.dtype}; "
            f"cast it first, e.g. mg.cast(x, '{floatx()}')"
        )
    return t


def _numpy_error(op: str, err: Exception, *arrays: np.ndarray) -> Exception:
    """What to raise when numpy fails inside ``op``: the broadcast message when the shapes do
    not broadcast, else numpy's own reason (same exception kind) with the op's name and the
    operands' dtypes and shapes."""
    shapes = [x.shape for x in arrays]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(str(shape) for shape in shapes[:-1]) + f" and {shapes[-1]}"
        return ValueError(
            f"mg.{op}: incompatible shapes {listed}; they must be equal or broadcastable "
            "(numpy rules: trailing dimensions equal or 1)"
        )
    operands = " and ".join(f"{x.dtype} {x.shape}" for x in arrays)
    kind = TypeError if isinstance(err, TypeError) else ValueError
    return kind(f"mg.{op} failed for operands {operands}: numpy says: {err}")


def _binary(op: str, kernel, ufunc, a, b) -> Tensor:
    a, b = _pair(a, b)
    x, y = a._data, b._data
    try:
        data = kernel(x, y) if x.dtype.kind == "f" else ufunc(x, y)
    except (ValueError, TypeError) as err:
        raise _numpy_error(op, err, x, y) from None
    out = Tensor(data)
    if is_recording():
        record(op, (a, b), (out,))
    return out


def _unary(op: str, kernel, x) -> Tensor:
    x = _float_tensor(x, op)
    out = Tensor(kernel(x._data))
    if is_recording():
        record(op, (x,), (out,))
    return out


# ---------------------------------------------------------------------------------------------
# binary elementwise primitives
# ---------------------------------------------------------------------------------------------


def add(a, b) -> Tensor:
    """a + b, broadcasting."""
    return _binary("add", binary_kernels.add, np.add, a, b)


@gradient_rule("add")
def _add_grad(rec, g):
    """d(a + b) = (g, g)"""
    return g, g


def subtract(a, b) -> Tensor:
    """a - b, broadcasting."""
    return _binary("subtract", binary_kernels.subtract, np.subtract, a, b)


@gradient_rule("subtract")
def _subtract_grad(rec, g):
    """d(a - b) = (g, -g)"""
    return g, (-g if rec.needs_grad[1] else None)


def multiply(a, b) -> Tensor:
    """a * b elementwise, broadcasting."""
    return _binary("multiply", binary_kernels.multiply, np.multiply, a, b)


@gradient_rule("multiply")
def _multiply_grad(rec, g):
    """d(a * b) = (g * b, g * a)"""
    a, b = rec.inputs
    da = binary_kernels.multiply(g, b._data) if rec.needs_grad[0] else None
    db = binary_kernels.multiply(g, a._data) if rec.needs_grad[1] else None
    return da, db


def divide(a, b) -> Tensor:
    """a / b elementwise (true division; integer operands give the default float)."""
    a, b = _pair(a, b)
    if a._data.dtype.kind != "f":
        a, b = _pair(cast(a, floatx()), cast(b, floatx()))
    return _binary("divide", binary_kernels.divide, np.divide, a, b)


@gradient_rule("divide")
def _divide_grad(rec, g):
    """d(a / b) = (g / b, -g * a / b²)"""
    a, b = rec.inputs
    da = binary_kernels.divide(g, b._data) if rec.needs_grad[0] else None
    db = None
    if rec.needs_grad[1]:
        db = -binary_kernels.divide(binary_kernels.multiply(g, rec.outputs[0]._data), b._data)
    return da, db


def power(a, b) -> Tensor:
    """a ** b elementwise, broadcasting."""
    a, b = _pair(a, b)
    return _binary("power", np.power, np.power, a, b)


@gradient_rule("power")
def _power_grad(rec, g):
    """d(a ** b) = (g * b * a ** (b - 1), g * a ** b * log(a)), with log(a) taken as 0 at a <= 0"""
    a, b = rec.inputs[0]._data, rec.inputs[1]._data
    da = g * b * np.power(a, b - 1) if rec.needs_grad[0] else None
    db = None
    if rec.needs_grad[1]:
        safe_log = np.log(np.where(a > 0, a, 1))
        db = g * rec.outputs[0]._data * safe_log
    return da, db


def maximum(a, b) -> Tensor:
    """Elementwise maximum, broadcasting."""
    return _binary("maximum", np.maximum, np.maximum, a, b)


@gradient_rule("maximum")
def _maximum_grad(rec, g):
    """d max(a, b) = (g where a >= b, g where a < b)"""
    a_wins = rec.inputs[0]._data >= rec.inputs[1]._data
    return np.where(a_wins, g, 0).astype(g.dtype), np.where(a_wins, 0, g).astype(g.dtype)


def minimum(a, b) -> Tensor:
    """Elementwise minimum, broadcasting."""
    return _binary("minimum", np.minimum, np.minimum, a, b)


@gradient_rule("minimum")
def _minimum_grad(rec, g):
    """d min(a, b) = (g where a <= b, g where a > b)"""
    a_wins = rec.inputs[0]._data <= rec.inputs[1]._data
    return np.where(a_wins, g, 0).astype(g.dtype), np.where(a_wins, 0, g).astype(g.dtype)


# ---------------------------------------------------------------------------------------------
# unary elementwise primitives
# ---------------------------------------------------------------------------------------------


def negative(x) -> Tensor:
    """-x"""
    x = _to_tensor(x)
    out = Tensor(np.negative(x._data))
    if is_recording():
        record("negative", (x,), (out,))
    return out


@gradient_rule("negative")
def _negative_grad(rec, g):
    """d(-x) = -g"""
    return (-g,)


def exp(x) -> Tensor:
    """e ** x"""
    return _unary("exp", kernels.exp, x)


@gradient_rule("exp")
def _exp_grad(rec, g):
    """d exp(x) = g * exp(x)"""
    return (binary_kernels.multiply(g, rec.outputs[0]._data),)


def log(x) -> Tensor:
    """Natural logarithm."""
    return _unary("log", kernels.log, x)


@gradient_rule("log")
def _log_grad(rec, g):
    """d log(x) = g / x"""
    return (kernels.log_backward(rec.inputs[0]._data, g),)


def sqrt(x) -> Tensor:
    """Square root."""
    return _unary("sqrt", kernels.sqrt, x)


@gradient_rule("sqrt")
def _sqrt_grad(rec, g):
    """d sqrt(x) = g / (2 sqrt(x))"""
    return (kernels.sqrt_backward(rec.outputs[0]._data, g),)


def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    return _unary("tanh", kernels.tanh, x)


@gradient_rule("tanh")
def _tanh_grad(rec, g):
    """d tanh(x) = g * (1 - y²), y = tanh(x)"""
    return (kernels.tanh_backward(rec.outputs[0]._data, g),)


def sigmoid(x) -> Tensor:
    """Logistic sigmoid 1 / (1 + e^-x), stable for any x."""
    return _unary("sigmoid", kernels.sigmoid, x)


@gradient_rule("sigmoid")
def _sigmoid_grad(rec, g):
    """d σ(x) = g * y * (1 - y), y = σ(x)"""
    return (kernels.sigmoid_backward(rec.outputs[0]._data, g),)


def relu(x) -> Tensor:
    """max(x, 0)"""
    return _unary("relu", kernels.relu, x)


@gradient_rule("relu")
def _relu_grad(rec, g):
    """d relu(x) = g * (x > 0)"""
    return (kernels.relu_backward(rec.inputs[0]._data, g),)


def abs(x) -> Tensor:  # noqa: A001  (the public name mirrors numpy's)
    """|x|"""
    x = _to_tensor(x)
    if x._data.dtype.kind != "f":
        return Tensor(np.abs(x._data))
    return _unary("abs", kernels.abs, x)


@gradient_rule("abs")
def _abs_grad(rec, g):
    """d |x| = g * sign(x)"""
    return (kernels.abs_backward(rec.inputs[0]._data, g),)


# ---------------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------------


def _rows(x: np.ndarray) -> np.ndarray:
    """``x (..., K)`` as a matrix ``(prod(...), K)`` (spelled out: -1 is ambiguous when K = 0)."""
    return x.reshape(math.prod(x.shape[:-1]), x.shape[-1])


def _matmul_arrays(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """numpy.matmul for ndim >= 2 on the Numba kernel: ``(..., M, K) @ (..., K, N)``."""
    if b.ndim == 2:  # (..., M, K) @ (K, N): fold the leading axes into M
        out = matmul_kernels.matmul(_rows(a), b)  # (prod(...) * M, N)
        return out.reshape(a.shape[:-1] + (b.shape[1],))
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    n = math.prod(batch)
    a3 = np.broadcast_to(a, batch + a.shape[-2:]).reshape((n,) + a.shape[-2:])  # (B, M, K)
    b3 = np.broadcast_to(b, batch + b.shape[-2:]).reshape((n,) + b.shape[-2:])  # (B, K, N)
    return matmul_kernels.matmul(a3, b3).reshape(batch + (a.shape[-2], b.shape[-1]))


def matmul(a, b) -> Tensor:
    """Matrix product with numpy.matmul semantics (1-D operands are promoted, leading axes
    broadcast)."""
    a, b = _pair(a, b)
    if a._data.dtype.kind != "f":
        raise TypeError(f"mg.matmul expects float Tensors, received dtype {a._data.dtype}")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"mg.matmul needs operands with at least 1 dimension, received shapes "
            f"{a.shape} and {b.shape}; use mg.multiply for scalars"
        )
    if a.ndim == 1 and b.ndim == 1:
        return reshape(matmul(expand_dims(a, 0), expand_dims(b, -1)), ())
    if a.ndim == 1:
        return squeeze(matmul(expand_dims(a, 0), b), -2)
    if b.ndim == 1:
        return squeeze(matmul(a, expand_dims(b, -1)), -1)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"mg.matmul: shapes {a.shape} and {b.shape} are not aligned: the last axis of the "
            f"first ({a.shape[-1]}) must equal the second-to-last axis of the second "
            f"({b.shape[-2]})"
        )
    try:  # a matrix b (the common case) has no batch axes: nothing to broadcast
        if b.ndim > 2:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"mg.matmul: the leading (batch) axes of shapes {a.shape} and {b.shape} do not "
            "broadcast"
        ) from None
    out = Tensor(_matmul_arrays(a._data, b._data))
    if is_recording():
        record("matmul", (a, b), (out,))
    return out


@gradient_rule("matmul")
def _matmul_grad(rec, g):
    """d(A @ B) = (g @ Bᵀ, Aᵀ @ g), transposing the last two axes"""
    a, b = rec.inputs[0]._data, rec.inputs[1]._data
    da = _matmul_arrays(g, np.swapaxes(b, -1, -2)) if rec.needs_grad[0] else None
    db = None
    if rec.needs_grad[1]:
        if b.ndim == 2:  # leading axes were folded into M: sum them inside one product
            db = matmul_kernels.matmul(_rows(a).T, _rows(g))  # (N·M, K)ᵀ @ (N·M, N) = (K, N)
        else:
            db = _matmul_arrays(np.swapaxes(a, -1, -2), g)
    return da, db


def dot(a, b) -> Tensor:
    """numpy.dot (like Keras ``K.dot``): contracts the last axis of ``a`` with the second-to-last
    axis of ``b`` (its only axis when 1-D). Result shape ``a.shape[:-1] + b.shape[:-2] +
    b.shape[-1:]``."""
    a, b = _pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    if b.ndim <= 2:
        return matmul(a, b)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"mg.dot: shapes {a.shape} and {b.shape} are not aligned: {a.shape[-1]} (last axis "
            f"of the first) != {b.shape[-2]} (second-to-last axis of the second)"
        )
    axes = (b.ndim - 2,) + tuple(range(b.ndim - 2)) + (b.ndim - 1,)
    columns = math.prod(b.shape[:-2]) * b.shape[-1]
    b2 = reshape(transpose(b, axes), (b.shape[-2], columns))  # (K, prod(b.shape[:-2]) * N)
    out = matmul(a, b2)  # (..., prod * N)
    return reshape(out, a.shape[:-1] + b.shape[:-2] + b.shape[-1:])


# ---------------------------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------------------------


def _normalize_axis(axis, ndim: int, op: str) -> tuple | None:
    """``axis`` (None, an int or a sequence of ints) as sorted non-negative axes, else a clear
    error naming the op, the axis and the Tensor's ndim."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, list | tuple) else (axis,)
    for ax in axes:
        if not isinstance(ax, int | np.integer) or isinstance(ax, bool):
            raise TypeError(f"mg.{op}: axis must be an int or a tuple of ints, received {axis!r}")
        if not -ndim <= ax < ndim:
            expected = (
                "a 0-d Tensor has no axes; use axis=None"
                if ndim == 0
                else (f"expected an axis in [{-ndim}, {ndim - 1}]")
            )
            raise ValueError(
                f"mg.{op}: axis {ax} is out of range for a Tensor with ndim {ndim}; {expected}"
            )
    normalized = tuple(sorted(int(ax) % ndim for ax in axes))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"mg.{op}: axis {axis!r} names an axis twice (ndim {ndim})")
    return normalized


def _expand_reduced(g: np.ndarray, shape: tuple, axes, keepdims: bool) -> np.ndarray:
    """Give a reduced gradient back its reduced axes (size 1), ready to broadcast to ``shape``."""
    if axes is None:
        return g.reshape((1,) * len(shape))
    if keepdims:
        return g
    return np.expand_dims(g, axes)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes when None), like numpy."""
    x = _to_tensor(x)
    axes = _normalize_axis(axis, x.ndim, "sum")
    if axes is None and not keepdims and x._data.dtype.kind == "f":
        data = kernels.sum_all(x._data)
    else:
        data = np.sum(x._data, axis=axes, keepdims=keepdims)
    out = Tensor(np.asarray(data))
    if is_recording():
        record("sum", (x,), (out,), axes=axes, keepdims=keepdims)
    return out


@gradient_rule("sum")
def _sum_grad(rec, g):
    """d sum(x) = g broadcast back over the summed axes"""
    x = rec.inputs[0]
    g = _expand_reduced(g, x.shape, rec.attrs["axes"], rec.attrs["keepdims"])
    return (np.broadcast_to(g, x.shape),)


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis`` (all axes when None), like numpy."""
    x = _to_tensor(x)
    if x.size == 0:
        raise ValueError(
            f"mg.max of an empty Tensor of shape {x.shape}; expected at least one entry"
        )
    axes = _normalize_axis(axis, x.ndim, "max")
    out = Tensor(np.asarray(np.max(x._data, axis=axes, keepdims=keepdims)))
    if is_recording():
        record("max", (x,), (out,), axes=axes, keepdims=keepdims)
    return out


@gradient_rule("max")
def _max_grad(rec, g):
    """d max(x) = g at the maximal entries, shared equally between ties"""
    x = rec.inputs[0]._data
    axes, keepdims = rec.attrs["axes"], rec.attrs["keepdims"]
    y = _expand_reduced(rec.outputs[0]._data, x.shape, axes, keepdims)
    winners = (x == y).astype(g.dtype)
    count = np.sum(winners, axis=axes, keepdims=True)
    return (winners * (_expand_reduced(g, x.shape, axes, keepdims) / count),)


def _cumsum_array(a: np.ndarray, axis: int, exclusive: bool, reverse: bool) -> np.ndarray:
    """Running sums of ``a`` along ``axis`` (its dtype kept), from the end when ``reverse``,
    leaving out each element itself when ``exclusive``."""
    if reverse:
        a = np.flip(a, axis)
    out = np.cumsum(a, axis=axis, dtype=a.dtype if a.dtype.kind in "fiu" else None)
    if exclusive:
        out = np.roll(out, 1, axis=axis)
        out[(slice(None),) * axis + (0,)] = 0
    return np.flip(out, axis) if reverse else out


def cumsum(x, axis=None, exclusive: bool = False, reverse: bool = False) -> Tensor:
    """Cumulative sum along ``axis`` (over the flattened Tensor when None, like numpy):

        out[..., t, ...] = sum_{s <= t} x[..., s, ...]     (s < t when exclusive)

    with ``reverse`` summing from the end instead (s >= t), as ``tf.math.cumsum``. The shape is
    ``x.shape``, or ``(x.size,)`` when axis is None."""
    x = _to_tensor(x)
    if axis is None:
        flat = reshape(x, (x.size,))
        return cumsum(flat, 0, exclusive, reverse)
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"mg.cumsum: axis must be an int or None, received {axis!r}")
    (axis,) = _normalize_axis(axis, x.ndim, "cumsum")
    out = Tensor(_cumsum_array(x._data, axis, exclusive, reverse))
    if is_recording():
        record("cumsum", (x,), (out,), axis=axis, exclusive=exclusive, reverse=reverse)
    return out


@gradient_rule("cumsum")
def _cumsum_grad(rec, g):
    """d cumsum(x) = cumsum of g in the other direction: x[s] feeds every out[t] with t >= s"""
    attrs = rec.attrs
    return (_cumsum_array(g, attrs["axis"], attrs["exclusive"], not attrs["reverse"]),)


def argmax(x, axis=None) -> Tensor:
    """The index of the largest entry along ``axis`` (of the flattened Tensor when None; the
    first one on ties), an int64 Tensor of shape ``x.shape`` without ``axis``. No gradient: the
    result is never recorded."""
    x = _to_tensor(x)
    if axis is not None:
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError(f"mg.argmax: axis must be an int or None, received {axis!r}")
        (axis,) = _normalize_axis(axis, x.ndim, "argmax")
    if (x.size if axis is None else x.shape[axis]) == 0:
        raise ValueError(
            f"mg.argmax of an empty Tensor of shape {x.shape} along axis {axis}; expected at "
            "least one entry to compare"
        )
    return Tensor(np.asarray(np.argmax(x._data, axis=axis)).astype(np.int64, copy=False))


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes when None): sum / count."""
    x = _float_tensor(x, "mean")
    axes = _normalize_axis(axis, x.ndim, "mean")
    count = x.size if axes is None else int(np.prod([x.shape[ax] for ax in axes]))
    return divide(sum(x, axis=axes, keepdims=keepdims), float(count))


# ---------------------------------------------------------------------------------------------
# shape primitives
# ---------------------------------------------------------------------------------------------


def reshape(x, shape) -> Tensor:
    """Reshape to ``shape`` (one entry may be -1), row-major like numpy."""
    x = _to_tensor(x)
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    try:
        data = x._data.reshape(shape)
    except ValueError:
        raise ValueError(
            f"mg.reshape: cannot reshape a Tensor of shape {x.shape} ({x.size} elements) "
            f"into shape {shape}"
        ) from None
    out = Tensor(data)
    if is_recording():
        record("reshape", (x,), (out,))
    return out


@gradient_rule("reshape")
def _reshape_grad(rec, g):
    """d reshape(x) = g reshaped back to x's shape"""
    return (g.reshape(rec.inputs[0].shape),)


def transpose(x, axes=None) -> Tensor:
    """Permute axes (reverse them when ``axes`` is None), like numpy."""
    x = _to_tensor(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(axes)
    if sorted(a % builtins.max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
        raise ValueError(
            f"mg.transpose: axes {axes} are not a permutation of the {x.ndim} axes of a "
            f"Tensor of shape {x.shape}"
        )
    out = Tensor(np.transpose(x._data, axes))
    if is_recording():
        record("transpose", (x,), (out,), axes=axes)
    return out


@gradient_rule("transpose")
def _transpose_grad(rec, g):
    """d transpose(x, p) = transpose(g, p⁻¹)"""
    return (np.transpose(g, np.argsort(rec.attrs["axes"])),)


def _index_arrays(index):
    """Tensors inside an index become arrays (so ``x[ids]`` works with an int Tensor)."""
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index._data if isinstance(index, Tensor) else index


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return builtins.any(isinstance(i, np.ndarray | list) for i in items)


def getitem(x, index) -> Tensor:
    """``x[index]``: basic indexing (ints, slices, None, Ellipsis) and integer-array indexing."""
    x = _to_tensor(x)
    index = _index_arrays(index)
    try:
        data = x._data[index]
    except IndexError as err:
        raise IndexError(
            f"Index {index!r} is invalid for a Tensor of shape {x.shape}: {err}"
        ) from None
    out = Tensor(np.asarray(data))
    if is_recording():
        record("getitem", (x,), (out,), index=index)
    return out


@gradient_rule("getitem")
def _getitem_grad(rec, g):
    """d x[i] = zeros like x with g scattered (added, for repeated indices) at i"""
    x, index = rec.inputs[0], rec.attrs["index"]
    if isinstance(index, np.ndarray) and index.dtype.kind in "iu" and index.size:
        return (_scatter_rows(g, index, x.shape),)
    dx = np.zeros(x.shape, dtype=g.dtype)
    if _is_advanced(index):
        np.add.at(dx, index, g)
    else:
        dx[index] = g
    return (dx,)


def _scatter_rows(g: np.ndarray, ids: np.ndarray, shape: tuple) -> np.ndarray:
    """The gradient of ``x[ids]`` (an Embedding lookup): the rows of ``g`` summed per id into a
    zero array of ``shape``. The ids are sorted once and each run of equal ids is added with one
    ``np.add.reduceat``, several times faster than ``np.add.at``."""
    ids = ids.ravel() % shape[0]  # (N,), negative ids count from the end
    rows = g.reshape(ids.size, -1)  # (N, prod(shape[1:]))
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # each run's start
    table = np.zeros((shape[0], rows.shape[1]), dtype=g.dtype)  # (shape[0], prod(shape[1:]))
    table[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return table.reshape(shape)


def concat(values, axis: int = 0) -> Tensor:
    """Join Tensors along an existing axis."""
    if not values:
        raise ValueError("mg.concat needs at least one Tensor")
    tensors = [_to_tensor(v) for v in values]
    first = tensors[0]
    for t in tensors[1:]:
        first, _ = _pair(first, t)  # dtype check
    ndim = first.ndim
    if ndim == 0 or not -ndim <= axis < ndim:
        raise ValueError(f"mg.concat: axis {axis} is out of range for Tensors with {ndim} dims")
    axis %= ndim
    shapes = [t.shape for t in tensors]
    for s in shapes:
        if len(s) != ndim or s[:axis] + s[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :]:
            raise ValueError(
                f"mg.concat: all shapes must match except on axis {axis}; received {shapes}"
            )
    out = Tensor(np.concatenate([t._data for t in tensors], axis=axis))
    if is_recording():
        record("concat", tuple(tensors), (out,), axis=axis)
    return out


@gradient_rule("concat")
def _concat_grad(rec, g):
    """d concat(x_1..x_n) = g split back into the inputs' sizes along the axis"""
    axis = rec.attrs["axis"]
    ends = np.cumsum([t.shape[axis] for t in rec.inputs])[:-1]
    return tuple(np.split(g, ends, axis=axis))


def unstack(x, axis: int = 0) -> list[Tensor]:
    """The slices of ``x`` along ``axis``, one Tensor each (``x[:, i]`` for axis 1), recorded
    as a single op: the time loop's way to read a sequence step by step."""
    x = _to_tensor(x)
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"mg.unstack: axis {axis} is out of range for shape {x.shape}; expected a Tensor with "
            f"at least 1 axis and an axis in [{-x.ndim}, {x.ndim - 1}]"
        )
    axis %= x.ndim
    outs = tuple(Tensor(np.take(x._data, i, axis=axis)) for i in range(x.shape[axis]))
    if is_recording():
        record("unstack", (x,), outs, axis=axis)
    return list(outs)


@gradient_rule("unstack", multiple_outputs=True)
def _unstack_grad(rec, gs):
    """d unstack(x) = the slices' gradients stacked back along the axis (zeros where unused)"""
    return (np.stack(gs, axis=rec.attrs["axis"]),)


def where(condition, x, y) -> Tensor:
    """Elementwise ``x`` where ``condition`` else ``y``, broadcasting all three."""
    cond = _to_tensor(condition)
    if cond._data.dtype != np.bool_:
        cond = Tensor(cond._data.astype(bool))
    x, y = _pair(x, y)
    try:
        data = np.where(cond._data, x._data, y._data)
    except (ValueError, TypeError) as err:
        raise _numpy_error("where", err, cond._data, x._data, y._data) from None
    out = Tensor(data)
    if is_recording():
        record("where", (cond, x, y), (out,))
    return out


@gradient_rule("where")
def _where_grad(rec, g):
    """d where(c, x, y) = (None, g where c, g where not c): the unselected branch gets exactly 0"""
    cond = rec.inputs[0]._data
    zero = np.zeros((), dtype=g.dtype)
    dx = np.where(cond, g, zero) if rec.needs_grad[1] else None
    dy = np.where(cond, zero, g) if rec.needs_grad[2] else None
    return None, dx, dy


def cast(x, dtype) -> Tensor:
    """``x`` converted to ``dtype``; the gradient is cast back (float inputs only)."""
    x = _to_tensor(x)
    dtype = as_dtype(dtype)
    if x._data.dtype == dtype:
        return x
    out = Tensor(x._data.astype(dtype))
    if is_recording() and x._data.dtype.kind == "f" and dtype.kind == "f":
        record("cast", (x,), (out,))
    return out


@gradient_rule("cast")
def _cast_grad(rec, g):
    """d cast(x) = g cast to x's dtype"""
    return (g.astype(rec.inputs[0].dtype),)


def identity(x) -> Tensor:
    """A recorded copy of ``x`` (the same array): lets a tape tell apart the uses of a Tensor,
    e.g. the per-step reads of a weight, whose gradients are then each step's contribution."""
    x = _to_tensor(x)
    out = Tensor(x._data)
    if is_recording():
        record("identity", (x,), (out,))
    return out


@gradient_rule("identity")
def _identity_grad(rec, g):
    """d identity(x) = g"""
    return (g,)


def stop_gradient(x) -> Tensor:
    """``x`` with no path back to its inputs: gradients through it are zero (never recorded)."""
    return Tensor(_to_tensor(x)._data)


# ---------------------------------------------------------------------------------------------
# composites: built from the primitives above, differentiated through them
# ---------------------------------------------------------------------------------------------


def clip(x, min_value, max_value) -> Tensor:
    """Elementwise clip to [min_value, max_value] = minimum(maximum(x, min_value), max_value)."""
    return minimum(maximum(x, min_value), max_value)


def expand_dims(x, axis: int) -> Tensor:
    """Insert a size-1 axis at ``axis``."""
    x = _to_tensor(x)
    if not -x.ndim - 1 <= axis <= x.ndim:
        raise ValueError(
            f"mg.expand_dims: axis {axis} is out of range for shape {x.shape}; expected an axis "
            f"in [{-x.ndim - 1}, {x.ndim}]"
        )
    axis %= x.ndim + 1
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


def squeeze(x, axis=None) -> Tensor:
    """Remove size-1 axes (only ``axis`` when given)."""
    x = _to_tensor(x)
    axes = _normalize_axis(axis, x.ndim, "squeeze")
    if axes is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    for ax in axes:
        if x.shape[ax] != 1:
            raise ValueError(f"mg.squeeze: axis {ax} of shape {x.shape} is not of size 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def stack(values, axis: int = 0) -> Tensor:
    """Join Tensors of one shape along a new axis."""
    if not values:
        raise ValueError("mg.stack needs at least one Tensor")
    tensors = [_to_tensor(v) for v in values]
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        received = [t.shape for t in tensors]
        raise ValueError(f"mg.stack needs Tensors of one shape, received {received}")
    return concat([expand_dims(t, axis) for t in tensors], axis=axis)


def split(x, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """Split like numpy.split: into N equal parts, or at the given indices."""
    x = _to_tensor(x)
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"mg.split: axis {axis} is out of range for shape {x.shape}")
    axis %= x.ndim
    n = x.shape[axis]
    if isinstance(indices_or_sections, int | np.integer):
        sections = int(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ValueError(
                f"mg.split: axis {axis} of size {n} cannot be split into {sections} equal parts"
            )
        bounds = list(range(0, n + 1, n // sections))
    else:
        bounds = [0, *[builtins.min(int(i), n) for i in indices_or_sections], n]
    prefix = (slice(None),) * axis
    return [x[prefix + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def log_softmax(x, axis: int = -1) -> Tensor:
    """log softmax(x) = (x - m) - log Σ exp(x - m), with m = max(x) held constant: finite for
    any input, since the largest shifted entry is 0."""
    x = _float_tensor(x, "log_softmax")
    shifted = x - stop_gradient(max(x, axis=axis, keepdims=True))
    return shifted - log(sum(exp(shifted), axis=axis, keepdims=True))


def softmax(x, axis: int = -1) -> Tensor:
    """softmax(x) = exp(log_softmax(x)), stable for any input."""
    return exp(log_softmax(x, axis=axis))


# ---------------------------------------------------------------------------------------------
# constants and comparisons: never recorded
# ---------------------------------------------------------------------------------------------


def zeros(shape, dtype=None) -> Tensor:
    """A Tensor of zeros (default float dtype)."""
    return Tensor(np.zeros(shape, dtype=as_dtype(dtype)))


def ones(shape, dtype=None) -> Tensor:
    """A Tensor of ones (default float dtype)."""
    return Tensor(np.ones(shape, dtype=as_dtype(dtype)))


def zeros_like(x, dtype=None) -> Tensor:
    """Zeros with ``x``'s shape and (unless given) dtype."""
    x = _to_tensor(x)
    return Tensor(np.zeros(x.shape, dtype=x.dtype if dtype is None else as_dtype(dtype)))


def ones_like(x, dtype=None) -> Tensor:
    """Ones with ``x``'s shape and (unless given) dtype."""
    x = _to_tensor(x)
    return Tensor(np.ones(x.shape, dtype=x.dtype if dtype is None else as_dtype(dtype)))


def one_hot(indices, depth: int) -> Tensor:
    """``(..., depth)`` one-hot rows of the default float dtype; out-of-range ids give zero rows."""
    ids = np.asarray(_to_tensor(indices)._data)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"mg.one_hot expects integer indices, received dtype {ids.dtype}")
    return Tensor((ids[..., None] == np.arange(depth)).astype(floatx()))


def _compare(ufunc, a, b) -> Tensor:
    a, b = _pair(a, b)
    try:
        return Tensor(ufunc(a._data, b._data))
    except (ValueError, TypeError) as err:
        raise _numpy_error(ufunc.__name__, err, a._data, b._data) from None


def equal(a, b) -> Tensor:
    """a == b elementwise (bool)."""
    return _compare(np.equal, a, b)


def not_equal(a, b) -> Tensor:
    """a != b elementwise (bool)."""
    return _compare(np.not_equal, a, b)


def less(a, b) -> Tensor:
    """a < b elementwise (bool)."""
    return _compare(np.less, a, b)


def less_equal(a, b) -> Tensor:
    """a <= b elementwise (bool)."""
    return _compare(np.less_equal, a, b)


def greater(a, b) -> Tensor:
    """a > b elementwise (bool)."""
    return _compare(np.greater, a, b)


def greater_equal(a, b) -> Tensor:
    """a >= b elementwise (bool)."""
    return _compare(np.greater_equal, a, b)
