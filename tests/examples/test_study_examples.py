"""The BPTT study examples (02-05) run in --quick mode and print what they claim to show.

Each example is loaded from its file (the names start with digits, so they are not importable as
modules) and its ``main(quick=True)`` runs in-process; the assertions read its printout.
"""

import importlib.util
import re
from pathlib import Path

import pytest

import minigrad as mg

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.slow


def run_example(filename: str, capsys, **kwargs) -> str:
    spec = importlib.util.spec_from_file_location(Path(filename).stem, EXAMPLES / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(quick=True, **kwargs)
    return capsys.readouterr().out


def numbers_after(label: str, out: str) -> list[float]:
    """The numbers on the first printed line that starts (after spaces) with ``label``."""
    line = next(line for line in out.splitlines() if line.strip().startswith(label))
    return [float(n) for n in re.findall(r"-?\d+\.\d+(?:e[+-]\d+)?", line[len(label) + 1 :])]


def test_minimal_rnn_cell(capsys):
    out = run_example("02_minimal_rnn_cell.py", capsys)
    assert "RNN(MinimalRNNCell(32)) on Input((None, 5)): symbolic output shape (None, 32)" in out
    assert "Model(x, y).predict on (4, 7, 5): (4, 32)" in out
    assert "Model(x, y).predict on (4, 7, 5): (4, 64)" in out
    assert "weight shapes: [(5, 32), (32, 32), (32, 64), (64, 64)]" in out
    losses = [float(m) for m in re.findall(r"epoch +\d+ +loss (\S+)", out)]
    assert len(losses) == 8 and losses[-1] < losses[0] / 50
    [eigenvalue] = numbers_after("Largest |eigenvalue|", out)
    assert abs(eigenvalue - 1.0) < 0.1  # the running sum needs an integrator


def test_bptt_by_hand_matches_tape_and_trace(capsys):
    out = run_example("03_bptt_by_hand.py", capsys)
    assert mg.floatx() == "float32"  # restored after the float64 comparison
    rows = re.findall(r"^  (\S.*\S)  +(\d\.\d\de[+-]\d+)$", out, flags=re.MULTILINE)
    labels = [label.strip() for label, _ in rows]
    for expected in [
        "dW_tape - dW_hand (fused)",
        "dh0_tape - dh0_hand (fused)",
        "dW_tape - dW_hand (per-step)",
        "dh0_tape - dh0_hand (per-step)",
        "state_grads[t][0] - dh_t",
    ]:
        assert expected in labels
    assert any(label.startswith("param_grads_by_step[recurrent_kernel]") for label in labels)
    assert len(rows) == 15
    assert all(float(value) < 1e-10 for _, value in rows)
    [worst] = numbers_after("worst difference:", out)
    assert worst < 1e-10
    assert "agree with the hand-written loop to rounding" in out


def test_vanishing_exploding(capsys, tmp_path):
    png = tmp_path / "norms.png"
    out = run_example("04_vanishing_exploding.py", capsys, out=str(png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {png}" in out
    verdicts = dict(re.findall(r"^(\w+, \w+) .* (vanishes|explodes|kept)$", out, re.MULTILINE))
    assert len(verdicts) == 6
    for cell in ("SimpleRNN", "LSTM", "GRU"):
        assert verdicts[f"{cell}, orthogonal"] == "vanishes"
    assert verdicts["SimpleRNN, uniform"] == "explodes"
    assert "Explodes (ratio > 100): SimpleRNN, uniform" in out


def test_truncated_bptt(capsys):
    out = run_example("05_truncated_bptt.py", capsys)
    assert mg.floatx() == "float32"
    assert "all runs from the same initial weights: True" in out
    accuracy = {
        name: float(acc)
        for name, acc in re.findall(r"^(full BPTT|k=\d+) +\d\.\d\d +(\d\.\d+)$", out, re.MULTILINE)
    }
    assert set(accuracy) == {"full BPTT", "k=5", "k=10", "k=20"}  # L = 10
    learned = min(accuracy["full BPTT"], accuracy["k=20"])
    assert learned > 0.95
    assert max(accuracy["k=5"], accuracy["k=10"]) < learned - 0.1
    assert "falls short; full BPTT and k > L learn the echo" in out

    gradient_rows = re.findall(r"^k=(\d+) +(\S+e[+-]\d+) +(\S+e[+-]\d+)$", out, re.MULTILINE)
    assert [k for k, _, _ in gradient_rows] == ["5", "20"]
    for _, chunks_vs_truncated, full_vs_truncated in gradient_rows:
        assert float(chunks_vs_truncated) < 1e-12  # stateful chunks: the truncated gradient
        assert float(full_vs_truncated) > 1e-6  # ... which is not full BPTT's
    stateful = [float(a) for a in re.findall(r"test accuracy (\d\.\d+); truncate_gradient", out)]
    assert len(stateful) == 2
    assert stateful[0] < 0.75 and stateful[1] > 0.95  # k=5 fails, k=20 learns
    assert out.count("same initial weights: True") == 3
