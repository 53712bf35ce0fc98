"""examples/12_memory_efficient_bptt.py: checkpointed segments give the same gradient, and the
memory they hold shrinks against full storage as the sequence grows."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "12_memory_efficient_bptt.py"


def test_quick_run_same_gradient_less_memory(capsys):
    spec = importlib.util.spec_from_file_location("memory_bptt", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    results = example.main(quick=True)
    assert "the gradients differ by" in capsys.readouterr().out
    assert results["difference"] < 1e-12
    short, long = results["rows"]
    assert long["memory"] < short["memory"] < 0.5
    assert long["memory"] < 0.2
