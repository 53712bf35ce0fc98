"""Shared test configuration: a hypothesis profile that tolerates first-call Numba compilation."""

import numpy as np
import pytest
from hypothesis import settings

import minigrad as mg

settings.register_profile("minigrad", deadline=None, max_examples=25, derandomize=True)
settings.load_profile("minigrad")


@pytest.fixture(autouse=True)
def _fresh_defaults():
    """Every test starts with float32 as the default float and a seeded generator."""
    mg.set_floatx("float32")
    mg.random.seed(1234)
    np.random.seed(1234)
    yield
    mg.set_floatx("float32")
