"""The README's per-file line counts list every source file, each within a margin of its real
count (the table is rounded, so small edits do not make it stale)."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `([^`]+\.py)` \| (\d+) \|$", re.MULTILINE)


def _line_counts_module():
    spec = importlib.util.spec_from_file_location("line_counts", ROOT / "docs" / "line_counts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_lists_every_source_file_with_its_size_within_a_margin():
    module = _line_counts_module()
    listed = {
        path: int(count) for path, count in ROW.findall(ROOT.joinpath("README.md").read_text())
    }
    actual = {
        p.relative_to(ROOT).as_posix(): module.line_count(p) for p in module.source_files(ROOT)
    }
    assert set(listed) == set(actual), (
        f"README.md's file table is stale (missing {sorted(set(actual) - set(listed))}, "
        f"gone {sorted(set(listed) - set(actual))}): run python docs/line_counts.py"
    )
    off = {p: (listed[p], n) for p, n in actual.items() if abs(listed[p] - n) > max(30, n // 4)}
    assert not off, f"README.md's line counts are off (listed, real): {off}"
