"""Every example opens as a notebook: ``# %%`` cells as jupytext's "percent" format reads them.

The splitter below cuts a file at the lines that start with ``# %%``; a header ``# %% [markdown]``
starts a markdown cell, any other ``# %%`` a code cell. Every example must start with a markdown
cell holding its docstring, have at least 3 cells, keep its later markdown cells to comment lines
and have code cells that compile on their own. The quick ones are then run cell by cell in one
namespace, as a notebook kernel runs them: in the examples folder, without ``__file__``, with
``__name__ == "__main__"`` and the kernel's own ``sys.argv`` (``-f kernel.json``), which
``parse_known_args`` must leave alone.
"""

import ast
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))
IPYTHON_DOC = "Automatically created module for IPython interactive environment"


def split_cells(source: str) -> list[tuple[str, str]]:
    """``[(kind, text)]`` with kind "markdown" or "code"; text before the first header, if any,
    is a code cell (as jupytext reads it)."""
    cells, kind, lines = [], "code", []
    for line in source.splitlines(keepends=True):
        if line.startswith("# %%"):
            if cells or "".join(lines).strip():
                cells.append((kind, "".join(lines)))
            kind = "markdown" if "[markdown]" in line else "code"
            lines = []
        else:
            lines.append(line)
    cells.append((kind, "".join(lines)))
    return cells


def test_split_cells():
    source = '# %% [markdown]\n"""Doc."""\n\n# %%\nx = 1\n# %% [markdown]\n# ## Hi\n# %%\ny = x\n'
    assert split_cells(source) == [
        ("markdown", '"""Doc."""\n\n'),
        ("code", "x = 1\n"),
        ("markdown", "# ## Hi\n"),
        ("code", "y = x\n"),
    ]
    assert split_cells("import os\n# %%\nx = 1\n")[0] == ("code", "import os\n")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_has_notebook_cells(path):
    source = path.read_text(encoding="utf-8")
    cells = split_cells(source)
    assert len(cells) >= 3, f"{path.name}: {len(cells)} cells"
    kind, first = cells[0]
    assert kind == "markdown", f"{path.name} must start with '# %% [markdown]'"
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert docstring is not None and ast.literal_eval(first.strip()) == docstring
    for i, (kind, text) in enumerate(cells[1:], start=1):
        if kind == "markdown":  # prose only: no code hidden where a notebook would not run it
            lines = [line for line in text.splitlines() if line.strip()]
            assert lines and all(line.startswith("#") for line in lines), f"{path.name} cell {i}"
        else:
            assert text.strip(), f"{path.name}: cell {i} is empty"
            compile(text, f"{path.name} cell {i}", "exec")


# The examples quick enough to run here, the kernel's sys.argv for each (with --quick where the
# defaults are slow; files they write go to {tmp}) and what their printout must contain.
QUICK = {
    "01_tape.py": (["-f", "kernel.json"], ["inputs=((4, 5), (5, 8))", "written by hand."]),
    "02_minimal_rnn_cell.py": (["--quick", "--f=kernel.json"], ["256 sequences", "epoch  8"]),
    "03_bptt_by_hand.py": (["--quick", "-f", "k.json"], ["batch 2, 6 steps", "agree with"]),
    "04_vanishing_exploding.py": (
        ["--quick", "--out", "{tmp}/norms.png", "-f", "k.json"],
        ["batch 4, 16 units", "norms.png"],
    ),
    "06_masking.py": (["--quick", "-f", "k.json"], ["256 training", "changes nothing"]),
    "07_char_rnn.py": (
        ["--quick", "--out", "{tmp}/c.weights.h5", "-f", "k.json"],
        ["6,000 characters", "predicts the same: max |difference| = 0.0e+00"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(QUICK))
def test_cells_run_in_order_as_a_notebook(name, monkeypatch, tmp_path, capsys):
    kernel_args, expected = QUICK[name]
    folder = EXAMPLES[0].parent
    monkeypatch.chdir(folder)  # a notebook runs in its own folder, without __file__
    argv = [arg.format(tmp=tmp_path) for arg in kernel_args]
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", *argv])
    namespace = {"__name__": "__main__", "__doc__": IPYTHON_DOC}
    source = (folder / name).read_text(encoding="utf-8")
    for i, (kind, text) in enumerate(split_cells(source)):
        if kind == "code":
            exec(compile(text, f"{name} cell {i}", "exec"), namespace)
    out = capsys.readouterr().out
    for piece in expected:
        assert piece in out, f"{name}: {piece!r} not printed"
