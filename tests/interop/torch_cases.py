"""PyTorch's nn.RNN / nn.LSTM / nn.GRU on fixed inputs: outputs, final states and gradients.

``python tests/interop/torch_cases.py`` (with torch installed) writes one ``.npz`` per case to
``tests/interop/torch_fixtures/``; the tests compare minigrad against those files, and against
PyTorch itself when it is installed. Each file holds, in float64: ``x (B, T, D)``; the initial
states ``h0`` (and ``c0``) ``(directions, B, H)``; the state dict under ``state/<key>``; PyTorch's
``y (B, T, directions H)``, ``h_n`` (and ``c_n``); the upstream gradients ``g_y``, ``g_h`` (and
``g_c``) of the loss ``sum(y g_y) + sum(h_n g_h) (+ sum(c_n g_c))``; and the gradients of that loss
with respect to ``x`` (``grad/x``) and to every state dict entry (``grad/<key>``).
"""

from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent / "torch_fixtures"
B, T, D, H = 3, 5, 4, 3
CASES = [
    (kind, bidirectional) for kind in ("rnn", "lstm", "gru") for bidirectional in (False, True)
]


def case_name(kind: str, bidirectional: bool) -> str:
    return f"{kind}_{'bidirectional' if bidirectional else 'forward'}"


def inputs(kind: str, bidirectional: bool) -> dict[str, np.ndarray]:
    """The inputs and upstream gradients of a case (from a seed, the same everywhere)."""
    rng = np.random.default_rng(len(kind) * 10 + bidirectional)
    directions = 2 if bidirectional else 1
    arrays = {
        "x": rng.normal(size=(B, T, D)),
        "h0": rng.normal(size=(directions, B, H)),
        "g_y": rng.normal(size=(B, T, directions * H)),
        "g_h": rng.normal(size=(directions, B, H)),
    }
    if kind == "lstm":
        arrays["c0"] = rng.normal(size=(directions, B, H))
        arrays["g_c"] = rng.normal(size=(directions, B, H))
    return arrays


def run_torch(kind: str, bidirectional: bool) -> dict[str, np.ndarray]:
    """Build the PyTorch module (seeded), run it, and return everything a fixture holds."""
    import torch

    torch.manual_seed(7)
    module_class = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    module = module_class(D, H, batch_first=True, bidirectional=bidirectional).double()
    arrays = inputs(kind, bidirectional)
    x = torch.tensor(arrays["x"], requires_grad=True)
    h0 = torch.tensor(arrays["h0"])
    if kind == "lstm":
        y, (h_n, c_n) = module(x, (h0, torch.tensor(arrays["c0"])))
        finals = {"h_n": h_n, "c_n": c_n}
    else:
        y, h_n = module(x, h0)
        finals = {"h_n": h_n}
    loss = (y * torch.tensor(arrays["g_y"])).sum() + (h_n * torch.tensor(arrays["g_h"])).sum()
    if kind == "lstm":
        loss = loss + (c_n * torch.tensor(arrays["g_c"])).sum()
    loss.backward()
    out = dict(arrays, y=y.detach().numpy(), **{k: v.detach().numpy() for k, v in finals.items()})
    out["grad/x"] = x.grad.numpy()
    for key, param in module.named_parameters():
        out[f"state/{key}"] = param.detach().numpy()
        out[f"grad/{key}"] = param.grad.numpy()
    return out


def load_fixture(kind: str, bidirectional: bool) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"{case_name(kind, bidirectional)}.npz", allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


if __name__ == "__main__":
    FIXTURES.mkdir(exist_ok=True)
    for kind, bidirectional in CASES:
        path = FIXTURES / f"{case_name(kind, bidirectional)}.npz"
        np.savez(path, **run_torch(kind, bidirectional))
        print(f"wrote {path}")
