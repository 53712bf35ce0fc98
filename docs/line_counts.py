"""Print the README's table of per-file line counts (run from the repository root).

python docs/line_counts.py            # print it
python docs/line_counts.py --write    # replace the table in README.md

Counts are rounded to the nearest ten lines, so the table stays true through small edits; the
test in ``tests/test_readme.py`` checks every listed count within a margin and that every source
file is listed.
"""

import re
import sys
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


def write_readme(root: Path = Path(".")) -> None:
    """Replace the table in ``README.md`` (from its header row to the total row) by a fresh one."""
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(r"^\| file \| lines \|\n(?:\|.*\n)*?\| total \| \d+ \|$", re.MULTILINE)
    if not pattern.search(text):
        raise ValueError(f"{readme}: no '| file | lines |' table ending in a total row")
    readme.write_text(pattern.sub(lambda _: table(root), text, count=1), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_readme()
    else:
        print(table())
