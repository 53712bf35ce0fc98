"""RNN(checkpoint_every=k): memory-efficient BPTT gives the numbers of plain BPTT (float64, to
1e-12) on the fused path and the per-step loop, and keeps one tape record per segment."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

rng = np.random.default_rng(5)
B, T, D, H = 3, 11, 4, 5


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


def _mask():
    mask = rng.random((B, T)) > 0.4
    mask[1] = False  # a row with no step at all
    mask[2, :6] = False  # a row whose steps start in the second segment
    return mask


def _outputs_and_grads(layer, x, **call):
    with mg.GradientTape() as tape:
        tape.watch(x)
        out = mg.nest.flatten(layer(x, **call))
        loss = sum(mg.sum(o * np.cos(np.arange(o.size)).reshape(o.shape)) for o in out)
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    return [o.numpy() for o in out] + [g.numpy() for g in grads], tape


def _twins(make, **options):
    plain, segmented = make(**options), make(checkpoint_every=4, **options)
    return plain, segmented


CELLS = {
    "simple_rnn": lambda **kw: mgl.SimpleRNN(H, **kw),
    "lstm": lambda **kw: mgl.LSTM(H, **kw),
    "gru": lambda **kw: mgl.GRU(H, **kw),
    "gru_reset_before": lambda **kw: mgl.GRU(H, reset_after=False, **kw),
    "stacked": lambda **kw: mgl.RNN([mgl.LSTMCell(H), mgl.SimpleRNNCell(2)], **kw),
}


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("unroll", [False, True], ids=["fused", "per_step"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"return_sequences": True, "go_backwards": True},
        {"return_sequences": True, "zero_output_for_mask": True},
        {"time_major": True, "return_sequences": True},
    ],
    ids=["last", "backwards", "zero_output", "time_major"],
)
def test_the_same_numbers_as_plain_bptt(kind, unroll, options):
    plain, segmented = _twins(CELLS[kind], unroll=unroll, return_state=True, **options)
    x = mg.tensor(rng.normal(size=(T, B, D) if options.get("time_major") else (B, T, D)))
    plain(x)
    segmented(x)
    segmented.set_weights(plain.get_weights())
    mask = _mask()
    expected, _ = _outputs_and_grads(plain, x, mask=mask)
    got, tape = _outputs_and_grads(segmented, x, mask=mask)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    assert [r.op for r in tape.records].count("checkpoint") == 3  # 11 steps in segments of 4


def test_initial_and_stateful_states():
    x = rng.normal(size=(B, T, D))
    h0 = [rng.normal(size=(B, H)), rng.normal(size=(B, H))]
    plain, segmented = _twins(lambda **kw: mgl.LSTM(H, **kw))
    plain(x)
    segmented(x)
    segmented.set_weights(plain.get_weights())
    expected, _ = _outputs_and_grads(plain, mg.tensor(x), initial_state=h0)
    got, _ = _outputs_and_grads(segmented, mg.tensor(x), initial_state=h0)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    stateful = [mgl.GRU(H, stateful=True, checkpoint_every=k) for k in (None, 5)]
    stateful[0](x)
    stateful[1](x)
    stateful[1].set_weights(stateful[0].get_weights())
    for layer in stateful:
        layer.reset_states()
        layer(x)  # the next call starts from the states this one kept
    np.testing.assert_allclose(stateful[1](x).numpy(), stateful[0](x).numpy(), rtol=1e-12)


def test_the_option_is_in_the_config():
    layer = mgl.LSTM(H, checkpoint_every=7)
    assert mgl.LSTM.from_config(layer.get_config()).checkpoint_every == 7
    assert "checkpoint_every" not in mgl.LSTM(H).get_config()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"checkpoint_every": 0}, "checkpoint_every must be None.*received 0"),
        ({"checkpoint_every": 2.5}, "checkpoint_every must be None.*received 2.5"),
        ({"checkpoint_every": 3, "truncate_gradient": 2}, "cannot be combined"),
    ],
)
def test_bad_values_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mgl.SimpleRNN(H, **kwargs)


def test_dropout_while_training_is_refused():
    layer = mgl.LSTM(H, dropout=0.2, checkpoint_every=3)
    x = rng.normal(size=(B, T, D))
    layer(x)  # inference: no dropout draws, fine
    with pytest.raises(ValueError, match="dropout .* would draw anew"):
        layer(x, training=True)
