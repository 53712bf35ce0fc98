"""examples/08_seq2seq_attention.py: trains, decodes, saves and reloads to the same decodings, and
its attention weights are distributions over the input's characters that skip the padding."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "08_seq2seq_attention.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("seq2seq_attention", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_dates_are_encoded_as_the_decoder_reads_them(example):
    source, decoder_input, target = example.encode([("7 march 1994", "1994-03-07")])
    assert source.shape == (1, example.INPUT_LEN) and (source[0, 12:] == 0).all()
    assert decoder_input[0, 0] == example.START
    assert (decoder_input[0, 1:] == target[0, :-1]).all()
    assert example.as_text(target[0]) == "1994-03-07"


def test_trains_decodes_saves_and_reloads(example, capsys, tmp_path):
    results = example.main(quick=True, plot=str(tmp_path / "attention.png"))
    out = capsys.readouterr().out
    assert "greedy decoding, exact dates" in out and "attention of" in out
    assert results["losses"][-1] < 0.6 * results["losses"][0]
    assert results["reloaded_same"]
    maps, valid = results["maps"], results["valid"]  # (N, OUTPUT_LEN, INPUT_LEN), (N, INPUT_LEN)
    np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-5)
    assert maps[np.broadcast_to(~valid[:, None, :], maps.shape)].max() < 1e-6
    assert (tmp_path / "attention.png").stat().st_size > 0
