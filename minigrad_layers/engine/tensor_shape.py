"""TensorShape: the per-sample shape of one multi-dimensional RNN state (or output).

In a cell's ``state_size`` a plain int means one state ``(batch, n)`` and a list or tuple means
*several* states, as in Keras. ``TensorShape((u, 2))`` is how a cell says "one state of shape
``(batch, u, 2)``".

>>> from minigrad_layers.engine.tensor_shape import TensorShape
>>> s = TensorShape((3, 2))
>>> s, len(s), s[0], s.as_list(), s == (3, 2)
(TensorShape([3, 2]), 2, 3, [3, 2], True)
"""

from __future__ import annotations

from collections.abc import Iterable


class TensorShape:
    """An immutable sequence of dimensions (ints, or ``None`` for an unknown size).

    Iterable, sized and indexable (a slice gives a TensorShape); equal to a TensorShape, tuple or
    list with the same dimensions; hashable like the tuple of its dimensions.
    """

    __slots__ = ("_dims",)

    def __init__(self, dims: TensorShape | Iterable[int | None] | int | None):
        if isinstance(dims, TensorShape):
            self._dims = dims._dims
            return
        if dims is None or isinstance(dims, int):
            dims = (dims,)
        if not isinstance(dims, Iterable) or isinstance(dims, str):
            raise TypeError(f"TensorShape expects an iterable of ints (or None), received {dims!r}")
        checked = []
        for d in dims:
            if d is not None and (isinstance(d, bool) or int(d) != d or int(d) < 0):
                raise ValueError(
                    f"TensorShape dimensions must be non-negative ints or None, received {d!r} "
                    f"in {dims!r}"
                )
            checked.append(None if d is None else int(d))
        self._dims = tuple(checked)

    def as_list(self) -> list[int | None]:
        """The dimensions as a list."""
        return list(self._dims)

    def as_tuple(self) -> tuple[int | None, ...]:
        """The dimensions as a tuple."""
        return self._dims

    @property
    def rank(self) -> int:
        return len(self._dims)

    def __iter__(self):
        return iter(self._dims)

    def __len__(self) -> int:
        return len(self._dims)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return TensorShape(self._dims[index])
        return self._dims[index]

    def __eq__(self, other) -> bool:
        if isinstance(other, TensorShape):
            return self._dims == other._dims
        if isinstance(other, list | tuple):
            return self._dims == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._dims)

    def __repr__(self) -> str:
        return f"TensorShape({list(self._dims)})"
