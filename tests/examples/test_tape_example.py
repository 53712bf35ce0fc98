"""examples/01_tape.py runs and shows the tape's gradient equal to the hand-written one."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "01_tape.py"


def test_tape_example_quick(capsys):
    spec = importlib.util.spec_from_file_location("tape_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(quick=True)
    out = capsys.readouterr().out
    assert "matmul    scope='rnn/t0'" in out and "sum       scope='loss'" in out
    for name in ("dW", "dU"):
        line = next(line for line in out.splitlines() if line.startswith(f"max |{name}_tape"))
        assert float(line.split("=")[-1]) < 1e-12
    assert "equal the chain rule written by hand" in out
