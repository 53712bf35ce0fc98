"""examples/09_addition_rnn.py (Keras' addition model: LSTM, RepeatVector, LSTM, softmax Dense on
bool one-hot inputs) builds, trains and learns in its quick mode."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "09_addition_rnn.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("addition_rnn", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_questions_are_reversed_padded_and_distinct(example):
    questions, answers = example.make_questions(200, 2, np.random.default_rng(1))
    assert all(len(q) == 5 and len(a) == 3 for q, a in zip(questions, answers, strict=True))
    for q, a in zip(questions, answers, strict=True):
        left, right = q[::-1].strip().split("+")
        assert int(left) + int(right) == int(a)
    assert len({tuple(sorted(q[::-1].strip().split("+"))) for q in questions}) == 200


def test_one_hot_round_trip(example):
    table = example.CharacterTable(example.CHARS)
    code = table.encode("12+7 ", 5)
    assert code.dtype == bool and code.sum() == 5
    assert table.decode(code) == "12+7 "


def test_quick_run_learns(example, capsys):
    results = example.main(quick=True, epochs=2, digits=2)  # 5 steps in and 3 out, not 7 and 4
    assert "of 2 digits" in capsys.readouterr().out
    first, last = results["val_accuracy"]
    assert (
        last > first and last > 0.35
    )  # above the share of the most common character, a space: 0.23 with 2 digits
