"""Bad inputs to the core engine: tensors, ops and tapes."""

import numpy as np

import minigrad as mg
from catalogue.case import Case

CASES = [
    Case(
        "matmul of mismatched inner axes",
        lambda: mg.matmul(mg.tensor(np.ones((2, 3))), mg.tensor(np.ones((4, 5)))),
        ValueError,
        ("(2, 3)", "(4, 5)"),
    ),
]
