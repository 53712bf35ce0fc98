"""Tensor (an immutable numpy-backed n-d array that ops can record) and Variable (a mutable one).

A Tensor only wraps an ``ndarray``; everything it can do goes through the functions of
``minigrad.ops``, so the operators below are one-liners. Comparisons return boolean Tensors, so a
Tensor hashes by identity.

>>> import minigrad as mg
>>> x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> (x @ x.T + 1).numpy()
array([[ 6., 12.],
       [12., 26.]], dtype=float32)
>>> v = mg.Variable([1.0, 2.0], name="v")
>>> v.assign_sub([0.5, 0.5]).numpy()
array([0.5, 1.5], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from minigrad.dtypes import as_dtype, floatx, is_float


def as_array(data, dtype=None) -> np.ndarray:
    """Array-like -> ndarray. numpy arrays keep their dtype; Python data goes through numpy's
    inference and a floating result becomes the default float dtype; ``dtype`` overrides both."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return np.asarray(data, dtype=as_dtype(dtype))
    if isinstance(data, np.ndarray | np.generic):
        array = np.asarray(data)
    else:
        array = np.asarray(data)
        if is_float(array.dtype):
            array = array.astype(floatx(), copy=False)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Expected numeric data (float, int or bool), received dtype {array.dtype} "
            f"from {type(data).__name__}"
        )
    return array


class Tensor:
    """An n-d array that ops can record on a GradientTape. Make one with ``mg.tensor(data)``.

    ``.numpy()`` returns the underlying array (do not modify it in place).
    """

    __slots__ = ("_data", "__weakref__")
    __array_priority__ = 1000  # numpy defers `ndarray + Tensor` to Tensor.__radd__
    __hash__ = object.__hash__  # comparisons return Tensors, so hash by identity

    def __init__(self, data: np.ndarray):
        self._data = data

    # -- array-like surface --------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def size(self) -> int:
        return self._data.size

    def numpy(self) -> np.ndarray:
        return self._data

    def __array__(self, dtype=None, copy=None):
        data = np.asarray(self._data)  # a 0-d result may be held as a numpy scalar
        if dtype is not None and dtype != data.dtype:
            return data.astype(dtype)
        return data.copy() if copy else data

    def item(self):
        if self._data.size != 1:
            raise ValueError(
                f"item() needs a one-element Tensor, received shape {self._data.shape}"
            )
        return self._data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"The truth value of a Tensor of shape {self._data.shape} is ambiguous; "
                "use mg.sum/mg.max or compare .numpy() with .any()/.all()"
            )
        return bool(self._data.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError(
                "len() of a 0-d Tensor (shape ()); expected a Tensor with at least 1 axis"
            )
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, shape={self._data.shape}, dtype={self._data.dtype})"

    # -- operators: each is one call into minigrad.ops ------------------------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.subtract(self, other)

    def __rsub__(self, other):
        return ops.subtract(other, self)

    def __mul__(self, other):
        return ops.multiply(self, other)

    def __rmul__(self, other):
        return ops.multiply(other, self)

    def __truediv__(self, other):
        return ops.divide(self, other)

    def __rtruediv__(self, other):
        return ops.divide(other, self)

    def __pow__(self, other):
        return ops.power(self, other)

    def __rpow__(self, other):
        return ops.power(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __neg__(self):
        return ops.negative(self)

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    @property
    def T(self):
        return ops.transpose(self)

    def __eq__(self, other):
        return ops.equal(self, other)

    def __ne__(self, other):
        return ops.not_equal(self, other)

    def __lt__(self, other):
        return ops.less(self, other)

    def __le__(self, other):
        return ops.less_equal(self, other)

    def __gt__(self, other):
        return ops.greater(self, other)

    def __ge__(self, other):
        return ops.greater_equal(self, other)


class Variable(Tensor):
    """A mutable Tensor; tapes watch it automatically when it is trainable.

    ``assign``, ``assign_add`` and ``assign_sub`` cast to the variable's dtype, check the shape
    and replace the held array (arrays returned earlier by ``.numpy()`` keep their values).
    """

    __slots__ = ("name", "trainable")

    def __init__(self, value, name: str | None = None, trainable: bool = True, dtype=None):
        data = as_array(value, dtype)
        if data.dtype.kind not in "fiub":
            raise TypeError(f"Variable needs numeric data, received dtype {data.dtype}")
        # a Variable owns its array, C-contiguous: the layout the kernels read without copying
        super().__init__(np.array(data, order="C"))
        self.name = name or "Variable"
        self.trainable = bool(trainable)

    def assign(self, value) -> Variable:
        new = np.array(as_array(value), dtype=self._data.dtype, order="C")
        if new.shape != self._data.shape:
            raise ValueError(
                f"Cannot assign a value of shape {new.shape} to variable {self.name!r} "
                f"of shape {self._data.shape}"
            )
        self._data = new
        return self

    def assign_add(self, delta) -> Variable:
        return self.assign(self._data + np.asarray(as_array(delta), dtype=self._data.dtype))

    def assign_sub(self, delta) -> Variable:
        return self.assign(self._data - np.asarray(as_array(delta), dtype=self._data.dtype))

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ")
        return (
            f"<Variable {self.name!r} shape={self._data.shape} dtype={self._data.dtype} "
            f"trainable={self.trainable}, numpy={body}>"
        )


def tensor(data, dtype=None) -> Tensor:
    """Make a constant Tensor from array-like data.

    numpy arrays keep their dtype (float, int and bool alike); Python data goes through numpy's
    inference and a floating result becomes the default float dtype (float32). The Tensor holds
    its own copy of a numpy array (or any buffer) it is given: a Tensor is immutable, so changing
    the caller's array afterwards does not change it.

    >>> mg.tensor([1, 2]).dtype, mg.tensor([1.5]).dtype
    (dtype('int64'), dtype('float32'))
    """
    if isinstance(data, Tensor) and dtype is None:
        return Tensor(data._data)
    array = as_array(data, dtype)
    if array is data or array.base is not None:  # the caller's memory, not a fresh array
        array = array.copy()
    return Tensor(array)


def as_tensor(data, dtype=None) -> Tensor:
    """Like :func:`tensor`, but a numpy array that needs no conversion is wrapped as it is,
    WITHOUT a copy: the Tensor sees later changes to the array. For minigrad's own conversion of
    op operands (``ops``), which read them once and never write to them."""
    if isinstance(data, Tensor) and dtype is None:
        return data
    return Tensor(as_array(data, dtype))


from minigrad import ops  # noqa: E402  (ops needs the classes above)
