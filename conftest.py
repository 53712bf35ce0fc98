"""Doctests of the packages run with ``np``, ``mg`` and ``mgl`` in their namespace, from float32
defaults and a seeded generator (as the tests do, in tests/conftest.py)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace.update(np=np, mg=mg, mgl=mgl)
    mg.set_floatx("float32")
    mg.random.seed(1234)
    mgl.clear_session()
    yield
    mg.set_floatx("float32")
