"""The model examples run end to end in their quick mode and show what they claim.

examples/06_masking.py: padded and unpadded sequences get the same predictions with the mask,
different ones without it. examples/07_char_rnn.py: trains, saves weights that a fresh model
reloads with identical predictions, and samples text at each temperature.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(filename: str):
    """Import an example as a module (its name starts with a digit, so not by ``import``)."""
    spec = importlib.util.spec_from_file_location(filename.removesuffix(".py"), EXAMPLES / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def masking():
    return load_example("06_masking.py")


@pytest.fixture(scope="module")
def char_rnn():
    return load_example("07_char_rnn.py")


def test_masking_padded_equals_unpadded(masking, capsys):
    results = masking.main(quick=True)
    out = capsys.readouterr().out
    assert "Embedding(mask_zero=True)" in out and "Embedding(mask_zero=False)" in out
    assert "max |p(padded) - p(alone, unpadded)|" in out
    masked, unmasked = results["masked"], results["no mask"]
    # with the mask, padding changes nothing, to float precision
    assert masked["max diff alone"] < 1e-5
    assert masked["max diff padded x3"] < 1e-5
    assert masked["accuracy padded"] == masked["accuracy alone"] == masked["accuracy padded x3"]
    # without it, the padding is read as a token and moves the predictions
    assert unmasked["max diff alone"] > 1e-3
    assert unmasked["max diff padded x3"] > 1e-3


def test_masking_helpers(masking):
    x = masking.pad([np.array([3, 1]), np.array([2, 2, 4])], 4)
    assert x.tolist() == [[3, 1, 0, 0], [2, 2, 4, 0]]
    rng = np.random.default_rng(0)
    sequences, labels = masking.make_data(50, 9, rng)
    assert all(4 <= len(s) <= 9 and s.min() >= 1 for s in sequences)
    expected = [float(np.sum(s == 1) > np.sum(s == 2)) for s in sequences]
    assert labels.tolist() == expected


def test_char_rnn_trains_saves_reloads_and_samples(char_rnn, capsys, tmp_path):
    out_path = tmp_path / "char_rnn.weights.h5"
    results = char_rnn.main(quick=True, out=out_path)
    out = capsys.readouterr().out
    assert "Final loss:" in out and "Wall time:" in out
    assert np.isfinite(results["loss"]) and np.isfinite(results["val_loss"])

    # the weights file alone rebuilds the model: a fresh one predicts exactly what it predicted
    assert out_path.exists()
    assert "predicts the same: max |difference| = 0.0e+00" in out
    trained = results["model"]
    fresh = char_rnn.build_model(len(results["chars"]), *results["sizes"])
    fresh.load_weights(out_path)
    x = np.random.default_rng(0).integers(0, len(results["chars"]), size=(3, 16))
    np.testing.assert_array_equal(fresh.predict(x), trained.predict(x))

    for temperature in char_rnn.TEMPERATURES:
        text = results["samples"][temperature]
        assert f"--- temperature {temperature} ---\n{text}\n" in out
        assert text.startswith("And God said") and len(text) > len("And God said")
        assert set(text) <= set(results["chars"])


def test_char_rnn_sequences(char_rnn):
    x, y = char_rnn.make_sequences(np.arange(11), 5)
    assert x.tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert y.tolist() == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]


def test_char_rnn_rejects_a_prompt_outside_the_vocabulary(char_rnn, tmp_path):
    with pytest.raises(ValueError, match="not in the text"):
        char_rnn.main(quick=True, prompt="And God said §", out=tmp_path / "w.weights.h5")


def test_char_rnn_time_limit_stops_training(char_rnn, capsys, tmp_path):
    results = char_rnn.main(quick=True, epochs=50, minutes=1e-9, out=tmp_path / "w.weights.h5")
    out = capsys.readouterr().out
    assert "stopped by the time limit" in out
    assert "Trained 1 step (1 epoch(s), stopped by the time limit)" in out
    assert np.isfinite(results["loss"])
