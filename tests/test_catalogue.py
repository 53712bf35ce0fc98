"""Every bad input in the catalogue raises a clear error that names what was received and expected.

The cases live in ``tests/catalogue/<part>_cases.py``, one module per part of the project, each
with a ``CASES`` list of :class:`catalogue.case.Case`.
"""

import importlib
import pkgutil

import catalogue
import pytest

MINIMUM_CASES = 60


def _all_cases():
    cases = []
    for module in pkgutil.iter_modules(catalogue.__path__):
        if module.name.endswith("_cases"):
            cases.extend(importlib.import_module(f"catalogue.{module.name}").CASES)
    return cases


CASES = _all_cases()


def test_the_catalogue_is_large_and_names_are_unique():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)), "two catalogue cases share a name"
    assert len(CASES) >= MINIMUM_CASES, f"{len(CASES)} cases, expected at least {MINIMUM_CASES}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input_gets_a_clear_error(case):
    with pytest.raises(case.raises) as raised:
        case.call()
    message = str(raised.value).lower()
    missing = [text for text in case.mentions if text.lower() not in message]
    assert not missing, f"message {str(raised.value)!r} does not mention {missing}"
