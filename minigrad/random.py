"""One random generator for both packages, so ``mg.random.seed(n)`` makes every draw repeatable.

Initializers, dropout masks and shuffling all draw from :func:`generator`.

>>> import minigrad as mg
>>> mg.random.seed(0)
>>> a = mg.random.generator().random(3)
>>> mg.random.seed(0)
>>> bool((mg.random.generator().random(3) == a).all())
True
"""

import numpy as np

_generator = np.random.default_rng()


def seed(n: int) -> None:
    """Re-seed the shared generator (initializers, dropout masks, shuffling)."""
    global _generator
    _generator = np.random.default_rng(n)


def generator() -> np.random.Generator:
    """The shared ``numpy.random.Generator``."""
    return _generator
