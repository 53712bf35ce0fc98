"""Unique default names for layers (``dense``, ``dense_1``, ...) and :func:`clear_session`.

>>> import minigrad_layers as mgl
>>> mgl.clear_session()
>>> unique_name("dense"), unique_name("dense"), to_snake_case("LSTMCell"), to_snake_case("Conv1D")
('dense', 'dense_1', 'lstm_cell', 'conv1d')
"""

import re
from collections import defaultdict

_counters: defaultdict[str, int] = defaultdict(int)


def to_snake_case(class_name: str) -> str:
    """``"SimpleRNNCell"`` -> ``"simple_rnn_cell"``, ``"GlobalAveragePooling1D"`` ->
    ``"global_average_pooling1d"`` (Keras' rule): an underscore before each capitalised word (its
    digits belong to it) and before a capital that follows a lower-case letter."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", class_name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    return name if not name.startswith("_") else "private" + name


def unique_name(base: str, zero_based: bool = True) -> str:
    """``base`` the first time (``base_1`` when not ``zero_based``), then ``base_1``, ``base_2``...

    Counters live until :func:`clear_session`.
    """
    count = _counters[base]
    _counters[base] += 1
    if zero_based:
        return base if count == 0 else f"{base}_{count}"
    return f"{base}_{count + 1}"


def clear_session() -> None:
    """Reset the default-name counters, so the next Dense is named ``dense`` again (Keras'
    ``clear_session``). Existing layers keep their names.

    >>> import minigrad_layers as mgl
    >>> mgl.clear_session(); mgl.Dense(2).name
    'dense'
    """
    _counters.clear()
