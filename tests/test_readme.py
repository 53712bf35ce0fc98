"""The README's per-file line counts are the files' real line counts."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_line_counts_are_current():
    spec = importlib.util.spec_from_file_location("line_counts", ROOT / "docs" / "line_counts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert module.table(ROOT) in readme, "README.md is stale: run python docs/line_counts.py"
