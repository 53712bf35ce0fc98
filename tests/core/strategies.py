"""Hypothesis strategies for shapes and float64 arrays (broadcastable pairs, axes)."""

import numpy as np
from hypothesis import strategies as st

dims = st.integers(min_value=1, max_value=4)
shapes = st.lists(dims, min_size=0, max_size=3).map(tuple)
nonscalar_shapes = st.lists(dims, min_size=1, max_size=3).map(tuple)


@st.composite
def broadcastable_pair(draw):
    """(shape_a, shape_b) that broadcast: b drops leading axes of a and/or has 1s."""
    a = draw(shapes)
    drop = draw(st.integers(min_value=0, max_value=len(a)))
    b = [1 if draw(st.booleans()) else n for n in a[drop:]]
    return (a, tuple(b)) if draw(st.booleans()) else (tuple(b), a)


def arrays(shape, low=-2.0, high=2.0, seed=0):
    """Deterministic float64 data of ``shape`` in [low, high)."""
    return np.random.default_rng(seed).uniform(low, high, size=shape)


@st.composite
def axis_args(draw, shape):
    """An ``axis`` argument valid for ``shape``: None, an int, or a tuple of ints."""
    if not shape:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(min_value=-len(shape), max_value=len(shape) - 1))
    return tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
