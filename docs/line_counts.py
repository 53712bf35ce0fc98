"""Print the README's table of per-file line counts (run from the repository root).

python docs/line_counts.py
"""

from pathlib import Path

PACKAGES = ["minigrad", "minigrad_layers", "minigrad_layers/rnn", "minigrad_layers/inspect"]


def table(root: Path = Path(".")) -> str:
    """The Markdown table: one row per source file, then the total."""
    rows = ["| file | lines |", "|---|---:|"]
    total = 0
    for package in PACKAGES:
        for path in sorted((root / package).glob("*.py")):
            count = len(path.read_text(encoding="utf-8").splitlines())
            total += count
            rows.append(f"| `{path.relative_to(root).as_posix()}` | {count} |")
    rows.append(f"| total | {total} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
