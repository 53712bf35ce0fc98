"""Print the README's table of per-file line counts (run from the repository root).

python docs/line_counts.py

Counts are rounded to the nearest ten lines, so the table stays true through small edits; the
test in ``tests/test_readme.py`` checks every listed count within a margin and that every source
file is listed.
"""

from pathlib import Path

PACKAGES = ["minigrad", "minigrad_layers"]


def source_files(root: Path = Path(".")) -> list[Path]:
    """Every ``.py`` file of the packages, in reading order of their folders."""
    files = []
    for package in PACKAGES:
        files += sorted(
            (root / package).rglob("*.py"), key=lambda p: (len(p.parts), p.parent, p.name)
        )
    return files


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def table(root: Path = Path(".")) -> str:
    """The Markdown table: one row per source file (lines rounded to tens), then the total."""
    rows = ["| file | lines |", "|---|---:|"]
    total = 0
    for path in source_files(root):
        count = line_count(path)
        total += count
        rows.append(f"| `{path.relative_to(root).as_posix()}` | {max(10, round(count, -1))} |")
    rows.append(f"| total | {round(total, -2)} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
