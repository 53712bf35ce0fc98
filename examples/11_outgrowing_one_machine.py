# %% [markdown]
"""# Outgrowing one machine: train here, go on in Keras 3 or PyTorch with the same weights

A model trained in minigrad, where every step of BPTT can be read, is an ordinary Keras model:

* **Keras 3** (JAX, TensorFlow or PyTorch backends, GPUs, its distribution API) opens the whole
  model, ``model.save("m.keras")`` (its own format: architecture, weights and optimizer state),
  with ``keras.saving.load_model``, predicts the same numbers and trains on;
* **PyTorch** gets the recurrent layer as an ``nn.LSTM`` state dict
  (``mgl.interop.torch_state_dict``: gate order, transposes and the two biases converted), and the
  embedding and dense layers as plain transposes.

The task: tell whether a sequence of 12 digits sums to more than 60. Each half runs only when its
library is installed (``pip install ".[keras]"`` for Keras 3; ``pip install torch``).

It runs as a script or, cell by cell (``# %%``), as a notebook.

    python examples/11_outgrowing_one_machine.py [--quick]
"""

# %%
import argparse
import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np

import minigrad_layers as mgl

VOCAB, STEPS, UNITS = 10, 12, 16


def make_data(samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Digit sequences (ids 1..9) and whether their sum exceeds 60 (about half of them do)."""
    x = rng.integers(1, VOCAB, size=(samples, STEPS)).astype(np.int32)
    return x, (x.sum(axis=1) > 60).astype(np.float32)[:, None]


def build_here() -> mgl.Sequential:
    model = mgl.Sequential(
        [
            mgl.Input((STEPS,), dtype="int32"),
            mgl.layers.Embedding(VOCAB, 8, name="embedding"),
            mgl.layers.LSTM(UNITS, name="lstm"),
            mgl.layers.Dense(1, activation="sigmoid", name="dense"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


# %% [markdown]
# ## Keras 3: the same file, opened there


# %%
def continue_in_keras(model_path: Path, x: np.ndarray, y: np.ndarray):
    """Predictions of the model as Keras 3 loads it, before it trains on there (None without
    Keras)."""
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        print("Keras 3 is not installed (pip install '.[keras]'): skipping that half")
        return None
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    twin = keras.saving.load_model(model_path)
    predictions = np.asarray(twin.predict(x, verbose=0))
    history = twin.fit(x, y, epochs=1, batch_size=64, verbose=0)  # the optimizer state came too
    print(f"Keras 3 trains on: accuracy {history.history['accuracy'][-1]:.3f}")
    return predictions


# %% [markdown]
# ## PyTorch: the recurrent layer as an ``nn.LSTM`` state dict


# %%
def continue_in_pytorch(model: mgl.Sequential, x: np.ndarray):
    """Predictions of the PyTorch twin (None without torch)."""
    if importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed (pip install torch): skipping that half")
        return None
    import torch

    embedding, lstm, dense = (model.get_layer(name) for name in ("embedding", "lstm", "dense"))
    torch_embedding = torch.nn.Embedding(VOCAB, 8)
    torch_lstm = torch.nn.LSTM(8, UNITS, batch_first=True)
    torch_dense = torch.nn.Linear(UNITS, 1)
    with torch.no_grad():
        torch_embedding.weight.copy_(torch.from_numpy(embedding.get_weights()[0]))
        torch_lstm.load_state_dict(mgl.interop.torch_state_dict(lstm, as_torch=True))
        kernel, bias = dense.get_weights()
        torch_dense.weight.copy_(torch.from_numpy(kernel.T))  # Keras (in, out), torch (out, in)
        torch_dense.bias.copy_(torch.from_numpy(bias))
        _, (h_last, _) = torch_lstm(torch_embedding(torch.from_numpy(x)))
        return torch.sigmoid(torch_dense(h_last[0])).numpy()


# %%
def main(quick: bool = False) -> dict:
    mgl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x, y = make_data(512 if quick else 4096, rng)
    model = build_here()
    history = model.fit(x, y, epochs=2 if quick else 20, batch_size=64, verbose=0)
    print(f"trained here: accuracy {history.history['accuracy'][-1]:.3f}")
    ours = model.predict(x[:64], verbose=0)
    results = {"accuracy": history.history["accuracy"][-1]}
    with tempfile.TemporaryDirectory() as folder:
        model_path = Path(folder) / "digits.keras"
        model.save(model_path)
        theirs = continue_in_keras(model_path, x[:64], y[:64])
    if theirs is not None:
        results["keras"] = float(np.max(np.abs(theirs - ours)))
        print(f"Keras 3 predicts the same: largest difference {results['keras']:.1e}")
    theirs = continue_in_pytorch(model, x[:64])
    if theirs is not None:
        results["torch"] = float(np.max(np.abs(theirs - ours)))
        print(f"PyTorch predicts the same: largest difference {results['torch']:.1e}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run, in seconds")
    main(quick=parser.parse_known_args()[0].quick)
