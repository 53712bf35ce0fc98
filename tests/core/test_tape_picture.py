"""tape.to_dot(): every record a box, every Tensor an ellipse, arrows inputs -> op -> outputs,
one cluster per name scope."""

import re
import shutil

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl


def test_nodes_edges_and_labels_follow_the_records():
    w = mg.Variable([[0.5, -0.3]], name="w")
    x = mg.tensor([[1.0], [2.0]])
    with mg.GradientTape() as tape:
        with mg.name_scope("layer"):
            h = mg.tanh(x @ w)
        loss = mg.sum(h * h)
    text = tape.to_dot()
    assert text.startswith('digraph "tape" {') and text.rstrip().endswith("}")
    boxes = re.findall(r'op(\d+) \[shape=box, label="(\w+)"\]', text)
    assert [op for _, op in sorted(boxes, key=lambda b: int(b[0]))] == [r.op for r in tape.records]
    assert len(re.findall(r"shape=ellipse", text)) == 6  # x, w, x@w, tanh, h*h, loss
    assert 'label="w\\n1×2"' in text and 'label="2×1"' in text and 'label="scalar"' in text
    edges = re.findall(r"(t\d+|op\d+) -> (t\d+|op\d+);", text)
    expected = sum(len(r.inputs) + len(r.outputs) for r in tape.records)
    assert len(edges) == expected
    assert (f"t{id(w)}", "op0") in edges and ("op3", f"t{id(loss)}") in edges


def test_one_cluster_per_rnn_step():
    x = mg.tensor(np.random.default_rng(0).normal(size=(2, 3, 2)))
    layer = mgl.SimpleRNN(2, unroll=True, name="rnn")
    with mg.GradientTape() as tape:
        mg.sum(layer(x))
    text = tape.to_dot()
    labels = re.findall(r'label="(rnn/t\d)"', text)
    assert labels == ["rnn/t0", "rnn/t1", "rnn/t2"]
    step_scopes = [r.scope for r in tape.records if r.scope.startswith("rnn/t1")]
    cluster = text.split('label="rnn/t1";')[1].split("  }")[0]
    assert cluster.count("shape=box") == len(step_scopes)


def test_written_as_dot_and_rendered_when_graphviz_is_there(tmp_path):
    with mg.GradientTape() as tape:
        w = mg.Variable([1.0])
        mg.sum(w * w)
    text = tape.to_dot(tmp_path / "tape.dot")
    assert (tmp_path / "tape.dot").read_text() == text
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="needs Graphviz's `dot` program"):
            tape.to_dot(tmp_path / "tape.png")
    else:
        tape.to_dot(tmp_path / "tape.png")
        assert (tmp_path / "tape.png").read_bytes()[:4] == b"\x89PNG"
