"""The real Keras 3 for the interop tests, on its JAX backend (CPU, no TensorFlow), or a skip.

``pip install ".[keras]"`` installs it (keras 3.15 with jax and scipy, about 500 MB).
"""

import importlib.util
import os

import pytest

SKIP_REASON = 'the real Keras 3 is not installed: pip install ".[keras]" (keras 3.15, jax, scipy)'


def require_keras():
    """The ``keras`` module, imported with ``KERAS_BACKEND=jax``; skips the test without it."""
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        pytest.skip(SKIP_REASON)
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip(f"keras was imported with the {keras.backend.backend()} backend already")
    return keras
