"""A tape drawn as a graph: ``tape.to_dot()`` writes the recorded ops in Graphviz's DOT language.

Each record becomes a box (the op's name), each Tensor it reads or writes an ellipse (its shape;
a Variable also its name), joined by arrows in the direction values flow: inputs → op → outputs.
The gradient sweep walks the same arrows backwards. Records made inside one name scope (an RNN's
step scopes ``lstm/t0``, ``lstm/t1``, ...) are drawn inside one box of their own, a *cluster*, so
a recurrence reads as a row of identical steps joined by the carried state::

    ┌ rnn/t0 ──────────────────┐   ┌ rnn/t1 ────────────
    │ x_0 → matmul → add → tanh ──h_0──> matmul → add → ...
    └──────────────────────────┘   └────────────────────

Render with Graphviz (``dot -Tpng tape.dot -o tape.png``), or give :func:`render` a file name: it
runs the ``dot`` program when it is installed and says how to install it otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

from minigrad.tensor import Variable

__all__ = ["render", "to_dot"]


def to_dot(records, title: str = "tape") -> str:
    """The DOT text of ``records`` (a tape's :attr:`~minigrad.GradientTape.records`)."""
    tensors: dict[int, object] = {}  # id -> Tensor, in order of first appearance
    home: dict[int, str] = {}  # tensor id -> the scope of the op that made it
    for rec in records:
        for t in rec.inputs:
            tensors.setdefault(id(t), t)
        for t in rec.outputs:
            tensors.setdefault(id(t), t)
            home.setdefault(id(t), rec.scope)
    by_scope: dict[str, list[str]] = defaultdict(list)
    for tensor_id, tensor in tensors.items():
        by_scope[home.get(tensor_id, "")].append(
            f'  t{tensor_id} [shape=ellipse, label="{_tensor_label(tensor)}"];'
        )
    edges = []
    for index, rec in enumerate(records):
        by_scope[rec.scope].append(f'  op{index} [shape=box, label="{_escape(rec.op)}"];')
        edges += [f"  t{id(t)} -> op{index};" for t in rec.inputs]
        edges += [f"  op{index} -> t{id(t)};" for t in rec.outputs]
    lines = [f'digraph "{_escape(title)}" {{', "  rankdir=LR;", '  node [fontname="Helvetica"];']
    lines += by_scope.pop("", [])
    for number, (scope, nodes) in enumerate(by_scope.items()):
        lines.append(f"  subgraph cluster_{number} {{")
        lines.append(f'    label="{_escape(scope)}";')
        lines += ["  " + node for node in nodes]
        lines.append("  }")
    lines += edges
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_text: str, path) -> Path:
    """Write ``dot_text`` as an image at ``path`` (the format from its suffix: ``.png``, ``.svg``,
    ``.pdf``) with Graphviz's ``dot`` program; a ``.dot`` path just gets the text."""
    path = Path(path)
    if path.suffix == ".dot":
        path.write_text(dot_text)
        return path
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            f"Drawing {path.name} needs Graphviz's `dot` program, which is not installed "
            "(e.g. apt install graphviz, brew install graphviz); or save the text with a .dot "
            "name and render it elsewhere"
        )
    subprocess.run(
        [dot, f"-T{path.suffix.lstrip('.')}", "-o", str(path)],
        input=dot_text.encode(),
        check=True,
    )
    return path


def _tensor_label(tensor) -> str:
    shape = "×".join(str(n) for n in tensor.shape) or "scalar"
    if isinstance(tensor, Variable):
        return _escape(f"{tensor.name}\n{shape}")
    return shape


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
