"""Optimizer constructors check every hyperparameter and name it, its value and the interval."""

import math
import re

import numpy as np
import pytest

from minigrad_layers import optimizers

BAD = [
    (optimizers.SGD, "learning_rate", -0.1, "[0, inf)"),
    (optimizers.Adam, "learning_rate", math.nan, "[0, inf)"),
    (optimizers.RMSprop, "learning_rate", math.inf, "[0, inf)"),
    (optimizers.SGD, "momentum", 1.0, "[0, 1)"),
    (optimizers.SGD, "momentum", -0.5, "[0, 1)"),
    (optimizers.Adam, "beta_1", 1.0, "[0, 1)"),
    (optimizers.Adam, "beta_2", 1.5, "[0, 1)"),
    (optimizers.Adam, "epsilon", 0.0, "(0, inf)"),
    (optimizers.RMSprop, "rho", -0.1, "[0, 1)"),
    (optimizers.RMSprop, "momentum", 2.0, "[0, 1)"),
    (optimizers.RMSprop, "epsilon", -1e-7, "(0, inf)"),
    (optimizers.Adam, "clipnorm", -1.0, "[0, inf)"),
    (optimizers.SGD, "clipvalue", math.inf, "[0, inf)"),
    (optimizers.RMSprop, "global_clipnorm", -2, "[0, inf)"),
]


@pytest.mark.parametrize(("make", "name", "value", "interval"), BAD)
def test_a_value_outside_its_interval_is_named(make, name, value, interval):
    expected = f"`{name}` must be a real number in {interval}, received {float(value)!r}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        make(**{name: value})


def test_a_value_of_the_wrong_type_is_named():
    with pytest.raises(ValueError, match="`beta_1` .* received '0.9' of type str"):
        optimizers.Adam(beta_1="0.9")
    with pytest.raises(ValueError, match="`learning_rate` .* received True of type bool"):
        optimizers.SGD(learning_rate=True)


def test_edge_values_are_accepted():
    sgd = optimizers.SGD(learning_rate=np.float32(0.5), momentum=0.0, clipnorm=0)
    assert sgd.learning_rate == 0.5 and sgd.clipnorm == 0.0
    assert optimizers.SGD(learning_rate=0).learning_rate == 0.0  # a step that does not move
    adam = optimizers.Adam(beta_1=0.0, beta_2=np.float64(0.5), epsilon=1e-12, clipvalue=3)
    assert (adam.beta_1, adam.beta_2, adam.clipvalue) == (0.0, 0.5, 3.0)
    assert optimizers.RMSprop(rho=0.0, momentum=0.99).rho == 0.0
