"""``set_random_seed``: one call that makes a whole program repeatable (``keras.utils``)."""

from __future__ import annotations

import numbers
import random

import numpy as np

import minigrad as mg

__all__ = ["set_random_seed"]


def set_random_seed(seed: int) -> None:
    """Seed every generator a program draws from: Python's ``random``, numpy's global generator
    and minigrad's own (initial weights, dropout masks, shuffling in ``fit``).

    >>> import numpy as np
    >>> import minigrad_layers as mgl
    >>> def first_kernel():
    ...     mgl.utils.set_random_seed(7)
    ...     layer = mgl.Dense(2)
    ...     layer.build((None, 3))
    ...     return layer.get_weights()[0]
    >>> bool(np.array_equal(first_kernel(), first_kernel()))
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"set_random_seed expects an int seed, received {seed!r}")
    if seed < 0:
        raise ValueError(f"set_random_seed expects a seed >= 0, received {seed}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    mg.random.seed(int(seed))
