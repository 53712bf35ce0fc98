"""PyTorch state dicts loaded into SimpleRNN/LSTM/GRU (and Bidirectional) give PyTorch's outputs,
final states and gradients (rtol 1e-6, float64), from committed fixtures and, when torch is
installed, from PyTorch live; and weights go back to PyTorch's layout unchanged."""

import importlib.util

import numpy as np
import pytest
import torch_cases
from torch_cases import CASES, case_name, load_fixture, run_torch

import minigrad as mg
import minigrad_layers as mgl

HAVE_TORCH = importlib.util.find_spec("torch") is not None
LAYERS = {"rnn": mgl.SimpleRNN, "lstm": mgl.LSTM, "gru": mgl.GRU}


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


def _layer(kind, bidirectional):
    layer = LAYERS[kind](torch_cases.H, return_sequences=True, return_state=True)
    return mgl.Bidirectional(layer) if bidirectional else layer


def _state_dict(case):
    return {key.removeprefix("state/"): v for key, v in case.items() if key.startswith("state/")}


def _run_minigrad(kind, bidirectional, case):
    """minigrad's outputs and gradients in PyTorch's shapes and layout."""
    layer = _layer(kind, bidirectional)
    mgl.interop.load_torch_state_dict(layer, _state_dict(case))
    directions = 2 if bidirectional else 1
    per_direction = [
        [case["h0"][d]] + ([case["c0"][d]] if kind == "lstm" else []) for d in range(directions)
    ]
    x = mg.tensor(case["x"])
    with mg.GradientTape() as tape:
        tape.watch(x)
        y, *states = layer(x, initial_state=[s for d in per_direction for s in d])
        per = len(states) // directions
        h_n = mg.stack([states[d * per] for d in range(directions)])
        loss = mg.sum(y * case["g_y"]) + mg.sum(h_n * case["g_h"])
        finals = {"h_n": h_n}
        if kind == "lstm":
            c_n = mg.stack([states[d * per + 1] for d in range(directions)])
            loss = loss + mg.sum(c_n * case["g_c"])
            finals["c_n"] = c_n
    weights = layer.trainable_weights
    grads = tape.gradient(loss, [x, *weights])
    out = {"y": y.numpy(), "grad/x": grads[0].numpy()}
    out.update({k: v.numpy() for k, v in finals.items()})
    twin = _layer(kind, bidirectional)  # the weight gradients, laid out as PyTorch's
    twin.build((None, None, torch_cases.D))
    twin.set_weights([g.numpy() for g in grads[1:]])
    out.update({f"grad/{k}": v for k, v in mgl.interop.torch_state_dict(twin).items()})
    return out


def _compare(kind, bidirectional, case):
    ours = _run_minigrad(kind, bidirectional, case)
    for key in ["y", "h_n", "grad/x"] + (["c_n"] if kind == "lstm" else []):
        np.testing.assert_allclose(ours[key], case[key], rtol=1e-6, atol=1e-12, err_msg=key)
    for key in (k for k in case if k.startswith("grad/") and k != "grad/x"):
        expected = case[key]
        if key.startswith("grad/bias_hh") and kind != "gru":
            key = key.replace("bias_hh", "bias_ih")  # one Keras bias: the gradient of the sum
        np.testing.assert_allclose(ours[key], expected, rtol=1e-6, atol=1e-12, err_msg=key)


@pytest.mark.parametrize(("kind", "bidirectional"), CASES, ids=[case_name(*c) for c in CASES])
def test_matches_the_pytorch_fixtures(kind, bidirectional):
    _compare(kind, bidirectional, load_fixture(kind, bidirectional))


@pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed (pip install torch)")
@pytest.mark.parametrize(("kind", "bidirectional"), CASES, ids=[case_name(*c) for c in CASES])
def test_matches_pytorch_live(kind, bidirectional):
    _compare(kind, bidirectional, run_torch(kind, bidirectional))


@pytest.mark.parametrize(("kind", "bidirectional"), CASES, ids=[case_name(*c) for c in CASES])
def test_the_state_dict_goes_back_unchanged(kind, bidirectional):
    state = _state_dict(load_fixture(kind, bidirectional))
    layer = _layer(kind, bidirectional)
    mgl.interop.load_torch_state_dict(layer, state)
    back = mgl.interop.torch_state_dict(layer)
    assert sorted(back) == sorted(state)
    for key, value in state.items():
        if key.startswith("bias") and kind != "gru":  # Keras keeps only the sum of the two
            continue
        np.testing.assert_array_equal(back[key], value, err_msg=key)


@pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed (pip install torch)")
def test_torch_tensors_in_and_out():
    import torch

    module = torch.nn.LSTM(4, 3, batch_first=True).double()
    layer = mgl.LSTM(3)
    mgl.interop.load_torch_state_dict(layer, module.state_dict())
    out = mgl.interop.torch_state_dict(layer, as_torch=True)
    assert all(isinstance(v, torch.Tensor) for v in out.values())
    assert torch.equal(out["weight_ih_l0"], module.weight_ih_l0.detach())


def test_what_pytorch_cannot_express_or_a_wrong_state_dict_is_refused():
    state = _state_dict(load_fixture("gru", False))
    with pytest.raises(ValueError, match="reset_after=False.*no PyTorch counterpart"):
        mgl.interop.load_torch_state_dict(mgl.GRU(3, reset_after=False), state)
    with pytest.raises(ValueError, match=r"expects weight_ih_l0 of shape \(12, input_dim\)"):
        mgl.interop.load_torch_state_dict(mgl.LSTM(3), state)  # a GRU's weights
    with pytest.raises(ValueError, match=r"needs \['weight_ih_l1', 'weight_hh_l1'\]"):
        mgl.interop.load_torch_state_dict(mgl.GRU(3), state, layer_index=1)
    with pytest.raises(TypeError, match="expected a SimpleRNN, LSTM or GRU"):
        mgl.interop.torch_state_dict(mgl.Dense(3))
