"""examples/10_rtrl_vs_bptt.py: RTRL and BPTT agree, and the table shows what each stores."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "10_rtrl_vs_bptt.py"


def test_quick_run_agrees_and_rtrl_memory_does_not_follow_the_length(capsys):
    spec = importlib.util.spec_from_file_location("rtrl_vs_bptt", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    results = example.main(quick=True)
    assert "largest relative difference" in capsys.readouterr().out
    assert results["worst"] < 1e-10
    by_size = {(row["H"], row["T"]): row for row in results["rows"]}
    for h in (2, 4):
        short, long = by_size[(h, 10)], by_size[(h, 160)]
        assert long["bptt"][1] > 2 * short["bptt"][1]  # BPTT stores every step
        assert long["influence MB"] == short["influence MB"]  # RTRL carries M_t, not the past
