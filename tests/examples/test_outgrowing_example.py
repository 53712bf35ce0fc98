"""examples/11_outgrowing_one_machine.py: the model trained here predicts the same in Keras 3 and
in PyTorch (each half where its library is installed; CI installs Keras 3)."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "11_outgrowing_one_machine.py"


def test_quick_run_predicts_the_same_elsewhere(capsys):
    spec = importlib.util.spec_from_file_location("outgrowing", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    results = example.main(quick=True)
    out = capsys.readouterr().out
    assert "trained here" in out
    for library in ("keras", "torch"):
        if library in results:
            assert results[library] < 1e-5
        else:
            assert "not installed" in out
