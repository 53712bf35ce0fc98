"""Shared test configuration: a hypothesis profile that tolerates first-call Numba compilation,
and XLA's cheapest compiler settings for the real Keras 3 (JAX) in the interop tests."""

import os

import numpy as np
import pytest
from hypothesis import settings

import minigrad as mg

settings.register_profile("minigrad", deadline=None, max_examples=25, derandomize=True)
settings.load_profile("minigrad")

# Each tiny Keras 3 model compiles a dozen XLA programs (initializers, predict) that then run in
# microseconds: without LLVM's optimization passes they compile in about half the time. Read
# when JAX starts its CPU backend, so set before any test imports keras.
os.environ.setdefault(
    "XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
)


@pytest.fixture(autouse=True)
def _fresh_defaults():
    """Every test starts with float32 as the default float and a seeded generator."""
    mg.set_floatx("float32")
    mg.random.seed(1234)
    np.random.seed(1234)
    yield
    mg.set_floatx("float32")
