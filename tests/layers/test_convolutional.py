"""Conv1D: values against a loop-by-loop numpy convolution, gradients against finite
differences, shapes (also symbolic), masks, configs and bad arguments."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


def conv1d_reference(x, kernel, bias, strides, padding, dilation, groups):
    """The textbook loops: out[b, i, f] = Σ_k Σ_c xp[b, i·s + k·d, g·C/G + c] · w[k, c, f] + b[f],
    with the padding worked out here from the definitions (TensorFlow's split for "same")."""
    batch, length, channels = x.shape
    taps, group_channels, filters = kernel.shape
    span = (taps - 1) * dilation + 1
    if padding == "valid":
        left = right = 0
    elif padding == "causal":
        left, right = span - 1, 0
    else:
        steps = -(-length // strides)
        total = max((steps - 1) * strides + span - length, 0)
        left, right = total // 2, total - total // 2
    xp = np.concatenate(
        [np.zeros((batch, left, channels)), x, np.zeros((batch, right, channels))], axis=1
    )
    steps = (xp.shape[1] - span) // strides + 1
    out = np.zeros((batch, steps, filters))
    per_group = filters // groups
    for b in range(batch):
        for i in range(steps):
            for f in range(filters):
                g = f // per_group
                total = bias[f] if bias is not None else 0.0
                for k in range(taps):
                    for c in range(group_channels):
                        total += (
                            xp[b, i * strides + k * dilation, g * group_channels + c]
                            * kernel[k, c, f]
                        )
                out[b, i, f] = total
    return out


SETTINGS = [  # (kernel_size, strides, padding, dilation, groups, length)
    (3, 1, "valid", 1, 1, 7),
    (3, 2, "valid", 1, 1, 8),
    (4, 3, "same", 1, 1, 10),
    (2, 1, "same", 1, 1, 5),
    (3, 1, "causal", 2, 1, 6),
    (2, 1, "same", 3, 1, 7),
    (3, 1, "valid", 1, 2, 6),
]


@pytest.mark.parametrize(("size", "strides", "padding", "dilation", "groups", "length"), SETTINGS)
def test_values_and_gradients_match_references(size, strides, padding, dilation, groups, length):
    conv = mgl.Conv1D(
        4, size, strides=strides, padding=padding, dilation_rate=dilation, groups=groups
    )
    x = RNG.normal(size=(2, length, 4))
    out = conv(x)
    kernel, bias = conv.kernel.numpy(), RNG.normal(size=4)
    conv.bias.assign(bias)
    expected = conv1d_reference(x, kernel, bias, strides, padding, dilation, groups)
    np.testing.assert_allclose(conv(x).numpy(), expected, rtol=1e-12, atol=1e-12)
    assert out.shape == expected.shape == conv.compute_output_shape(x.shape)
    w = RNG.normal(size=expected.shape)

    def loss(x, k, b):
        conv.kernel, conv.bias = k, b
        return mg.sum(conv(x) * w)

    mg.gradcheck(loss, [x, kernel, bias])


def test_causal_output_never_sees_later_steps():
    conv = mgl.Conv1D(3, 3, padding="causal", dilation_rate=2)
    x = RNG.normal(size=(1, 9, 2))
    changed = x.copy()
    changed[:, 5:] += 1.0
    np.testing.assert_array_equal(conv(x).numpy()[:, :5], conv(changed).numpy()[:, :5])
    assert not np.allclose(conv(x).numpy()[:, 5:], conv(changed).numpy()[:, 5:])


def test_channels_first_is_channels_last_transposed():
    last = mgl.Conv1D(3, 2, padding="same", activation="tanh")
    first = mgl.Conv1D(3, 2, padding="same", activation="tanh", data_format="channels_first")
    x = RNG.normal(size=(2, 5, 4))
    last(x)
    first(np.transpose(x, (0, 2, 1)))
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(
        first(np.transpose(x, (0, 2, 1))).numpy(), np.transpose(last(x).numpy(), (0, 2, 1))
    )
    assert first.compute_output_shape((None, 4, 5)) == (None, 3, 5)


def test_activation_bias_and_weights_follow_keras_layout():
    conv = mgl.Conv1D(2, 3, activation="relu", use_bias=False, groups=2)
    x = RNG.normal(size=(3, 6, 4))
    out = conv(x)
    assert [w.name for w in conv.weights] == ["conv1d/kernel"]
    assert conv.kernel.shape == (3, 2, 2)
    reference = conv1d_reference(x, conv.kernel.numpy(), None, 1, "valid", 1, 2)
    np.testing.assert_allclose(out.numpy(), np.maximum(reference, 0.0), rtol=1e-12)


def test_symbolic_shapes_and_masks():
    x = mgl.Input((None, 4))
    assert mgl.Conv1D(3, 3)(x).shape == (None, None, 3)
    assert mgl.Conv1D(3, 3, strides=2, padding="same")(mgl.Input((9, 4))).shape == (None, 5, 3)
    model = mgl.Sequential([mgl.Input((8, 2)), mgl.Conv1D(3, 3), mgl.Conv1D(1, 2)])
    assert model.predict(np.ones((2, 8, 2)), verbose=0).shape == (2, 5, 1)
    masked = mg.tensor(RNG.normal(size=(1, 4, 2)))
    mgl.set_keras_mask(masked, mg.tensor(np.array([[True, True, True, False]])))
    assert mgl.get_keras_mask(mgl.Conv1D(2, 2)(masked)) is None


def test_config_round_trip():
    conv = mgl.Conv1D(
        3, 2, strides=1, padding="causal", dilation_rate=2, activation="relu", name="c"
    )
    config = conv.get_config()
    assert config["kernel_size"] == (2,) and config["dilation_rate"] == (2,)
    assert config["strides"] == (1,) and config["padding"] == "causal"
    assert config["data_format"] == "channels_last" and config["groups"] == 1
    clone = mgl.Conv1D.from_config(config)
    assert clone.get_config() == config
    x = RNG.normal(size=(2, 5, 3))
    conv(x)
    clone(x)
    clone.set_weights(conv.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), conv(x).numpy())


def test_float32_by_default():
    mg.set_floatx("float32")
    conv = mgl.Conv1D(2, 2)
    assert conv(np.ones((1, 3, 2))).dtype == np.float32
    assert conv.kernel.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filters": 0, "kernel_size": 2}, "`filters` must be a positive integer, received 0"),
        ({"filters": 2, "kernel_size": -1}, "`kernel_size` must be a positive integer"),
        ({"filters": 2, "kernel_size": 2, "strides": 0}, "`strides` must be a positive"),
        ({"filters": 2, "kernel_size": 2, "padding": "full"}, "`padding`.*'causal'.*'full'"),
        ({"filters": 2, "kernel_size": 2, "data_format": "nwc"}, "`data_format`.*'nwc'"),
        ({"filters": 3, "kernel_size": 2, "groups": 2}, "divisible.*filters=3, groups=2"),
        ({"filters": 2, "kernel_size": 2, "strides": 2, "dilation_rate": 2}, "strides > 1"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mgl.Conv1D(**kwargs)


def test_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match=r"'conv'.*3 steps.*\(2, 3, 4\).*padding='valid'"):
        mgl.Conv1D(2, 4, name="conv")(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"'conv'.*ndim=3, found ndim=2"):
        mgl.Conv1D(2, 4, name="conv")(np.ones((2, 3)))
    built = mgl.Conv1D(2, 2, name="conv")
    built(np.ones((1, 4, 3)))
    with pytest.raises(ValueError, match=r"'conv'.*axis 2.*value 3.*\(1, 4, 5\)"):
        built(np.ones((1, 4, 5)))
    with pytest.raises(ValueError, match=r"'conv'.*divisible by groups=2.*3 channels"):
        mgl.Conv1D(2, 2, groups=2, name="conv")(np.ones((1, 4, 3)))
