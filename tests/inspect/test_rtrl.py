"""RTRL's forward-in-time weight gradients equal BPTT's (the tape's) to 1e-10 in float64."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

rng = np.random.default_rng(3)
B, T, D, H = 3, 6, 4, 3

LAYERS = {
    "simple_rnn": lambda **kw: mgl.SimpleRNN(H, **kw),
    "simple_rnn_relu": lambda **kw: mgl.SimpleRNN(H, activation="relu", **kw),
    "lstm": lambda **kw: mgl.LSTM(H, **kw),
    "gru": lambda **kw: mgl.GRU(H, **kw),
    "gru_reset_before": lambda **kw: mgl.GRU(H, reset_after=False, **kw),
}


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


def _bptt(layer, x, loss_fn, **call):
    with mg.GradientTape() as tape:
        loss = loss_fn(layer(x, **call))
    weights = layer.cell.trainable_weights
    return dict(zip([w.name for w in weights], tape.gradient(loss, weights), strict=True))


def _loss(out):
    target = mg.tensor(np.linspace(-1.0, 1.0, out.size).reshape(out.shape))
    return mg.sum((out - target) ** 2)


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("return_sequences", [True, False])
def test_rtrl_equals_bptt(kind, return_sequences):
    layer = LAYERS[kind](return_sequences=return_sequences)
    x = rng.normal(size=(B, T, D))
    result = mgl.inspect.rtrl_gradients(layer, x, _loss)
    for name, grad in _bptt(layer, x, _loss).items():
        np.testing.assert_allclose(result.gradients[name], grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["simple_rnn", "lstm", "gru"])
def test_rtrl_with_masks_and_initial_states(kind):
    layer = LAYERS[kind](return_sequences=True)
    x = rng.normal(size=(B, T, D))
    mask = np.ones((B, T), bool)
    mask[0, 2:4] = False  # a hole
    mask[1] = False  # a row with no step at all
    mask[2, -1] = False  # a masked last step
    states = [rng.normal(size=(B, H)) for _ in range(2 if kind == "lstm" else 1)]
    call = {"mask": mask, "initial_state": states}
    result = mgl.inspect.rtrl_gradients(layer, x, _loss, **call)
    for name, grad in _bptt(layer, x, _loss, **call).items():
        np.testing.assert_allclose(result.gradients[name], grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_influence_matrices_are_all_of_rtrl_memory_and_do_not_grow_with_time():
    sizes = []
    for steps in (4, 16):
        layer = mgl.LSTM(H)
        sizes.append(mgl.inspect.rtrl_gradients(layer, rng.normal(size=(B, steps, D)), _loss))
    params = 4 * H * (D + H + 1)
    assert sizes[0].influence_bytes == sizes[1].influence_bytes == B * 2 * H * params * 8


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (lambda: mgl.SimpleRNN(H, go_backwards=True), "go_backwards=True"),
        (lambda: mgl.LSTM(H, return_state=True), "return_state=True"),
        (lambda: mgl.GRU(H, dropout=0.5), "dropout"),
        (lambda: mgl.RNN([mgl.SimpleRNNCell(H), mgl.SimpleRNNCell(2)]), "is not its first state"),
        (lambda: mgl.Dense(H), "expects a recurrent layer"),
    ],
)
def test_what_rtrl_cannot_follow_is_refused(layer, message):
    with pytest.raises((TypeError, ValueError), match=message):
        mgl.inspect.rtrl_gradients(layer(), rng.normal(size=(B, T, D)), _loss)
