"""Losses against numpy transcriptions of the Keras formulas; gradients against finite
differences and closed forms; stability at extreme inputs; sample weights and masks."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers import losses

EPS = 1e-7
rng = np.random.default_rng(0)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def log_softmax(x):
    s = x - x.max(-1, keepdims=True)
    return s - np.log(np.exp(s).sum(-1, keepdims=True))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# -- numpy references: per-sample values, then the mean ---------------------------------------


def bce_ref(z, p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(-(z * np.log(p) + (1 - z) * np.log(1 - p)), axis=-1)


def cce_ref(t, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(t * np.log(p), axis=-1)


def one_hot(ids, depth):
    return np.eye(depth)[ids]


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3)])
def test_values_match_numpy(shape):
    y_true, raw = rng.normal(size=shape), rng.normal(size=shape)
    ids = rng.integers(0, shape[-1], size=shape[:-1])
    z = (rng.random(shape) > 0.5).astype(float)
    probs = softmax(raw)
    cases = [
        (losses.MeanSquaredError(), y_true, raw, np.mean((raw - y_true) ** 2, -1)),
        (losses.MeanAbsoluteError(), y_true, raw, np.mean(np.abs(raw - y_true), -1)),
        (losses.BinaryCrossentropy(), z, sigmoid(raw), bce_ref(z, sigmoid(raw))),
        (losses.BinaryCrossentropy(from_logits=True), z, raw, bce_ref(z, sigmoid(raw))),
        (losses.CategoricalCrossentropy(), one_hot(ids, shape[-1]), probs,
         cce_ref(one_hot(ids, shape[-1]), probs)),
        (losses.CategoricalCrossentropy(from_logits=True), one_hot(ids, shape[-1]), raw,
         -np.sum(one_hot(ids, shape[-1]) * log_softmax(raw), -1)),
        (losses.SparseCategoricalCrossentropy(), ids, probs,
         cce_ref(one_hot(ids, shape[-1]), probs)),
        (losses.SparseCategoricalCrossentropy(from_logits=True), ids, raw,
         -np.sum(one_hot(ids, shape[-1]) * log_softmax(raw), -1)),
    ]  # fmt: skip
    for loss, t, p, per_sample in cases:
        value = loss(t, mg.tensor(p))
        assert value.shape == () and value.dtype == np.float64
        np.testing.assert_allclose(float(value), per_sample.mean(), rtol=1e-10, err_msg=loss.name)
        none = type(loss)(**_from_logits(loss), reduction="none")(t, mg.tensor(p))
        np.testing.assert_allclose(none.numpy(), per_sample, rtol=1e-10)
        total = type(loss)(**_from_logits(loss), reduction="sum")(t, mg.tensor(p))
        np.testing.assert_allclose(float(total), per_sample.sum(), rtol=1e-10)


def _from_logits(loss):
    return {"from_logits": loss.from_logits} if hasattr(loss, "from_logits") else {}


@pytest.mark.parametrize(
    ("name", "make_target", "make_pred"),
    [
        ("mse", lambda: rng.normal(size=(3, 4)), lambda: rng.normal(size=(3, 4))),
        ("mae", lambda: rng.normal(size=(3, 4)), lambda: rng.normal(size=(3, 4)) + 3),
        ("binary_crossentropy", lambda: (rng.random((3, 4)) > 0.5) * 1.0,
         lambda: rng.uniform(0.1, 0.9, (3, 4))),
        ("categorical_crossentropy", lambda: one_hot(rng.integers(0, 4, 3), 4),
         lambda: rng.uniform(0.1, 0.9, (3, 4))),
        ("sparse_categorical_crossentropy", lambda: rng.integers(0, 4, (2, 3)),
         lambda: rng.uniform(0.1, 0.9, (2, 3, 4))),
    ],
)  # fmt: skip
def test_gradients_match_finite_differences(name, make_target, make_pred):
    loss, target = losses.get(name), make_target()
    mg.gradcheck(lambda p: loss(target, p), [make_pred()])


@pytest.mark.parametrize("cls", [losses.CategoricalCrossentropy, losses.BinaryCrossentropy])
def test_logit_gradients_match_finite_differences(cls):
    loss = cls(from_logits=True)
    target = one_hot(rng.integers(0, 4, 3), 4)
    mg.gradcheck(lambda x: loss(target, x), [rng.normal(size=(3, 4)) * 3])


def test_cross_entropy_from_logits_gradient_is_softmax_minus_target():
    x = mg.Variable(rng.normal(size=(5, 3)), dtype="float64")
    ids = np.array([0, 2, 1, 1, 0])
    with mg.GradientTape() as tape:
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)(ids, x)
    expected = (softmax(x.numpy()) - one_hot(ids, 3)) / 5
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), expected, rtol=1e-10)


def test_binary_from_logits_gradient_is_exact_at_zero():
    x = mg.Variable(np.zeros((4, 1)), dtype="float64")
    z = np.array([[0.0], [1.0], [1.0], [0.0]])
    with mg.GradientTape() as tape:
        loss = losses.BinaryCrossentropy(from_logits=True)(z, x)
    np.testing.assert_allclose(float(loss), np.log(2.0))
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), (0.5 - z) / 4)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stable_at_extreme_logits(dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 50.0]])
    x = mg.Variable(logits, dtype=dtype)
    checks = [
        (losses.BinaryCrossentropy(from_logits=True), np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])),
        (losses.CategoricalCrossentropy(from_logits=True), np.array([[0, 1, 0], [1, 0, 0.0]])),
        (losses.SparseCategoricalCrossentropy(from_logits=True), np.array([1, 0])),
    ]
    for loss, target in checks:
        with mg.GradientTape() as tape:
            value = loss(target, x)
        grad = tape.gradient(value, x).numpy()
        assert np.isfinite(float(value)) and np.isfinite(grad).all(), loss.name
        assert value.dtype == grad.dtype == np.dtype(dtype)
    # the values are right, not merely finite: a logit 1e4 on the wrong side costs 1e4
    bce = losses.BinaryCrossentropy(from_logits=True, reduction="none")
    np.testing.assert_allclose(bce(np.array([[0.0]]), mg.tensor([[1e4]])).numpy(), [1e4])
    scce = losses.SparseCategoricalCrossentropy(from_logits=True)
    np.testing.assert_allclose(float(scce(np.array([1]), mg.tensor([[1e4, -1e4]]))), 2e4)


def test_probabilities_are_clipped_like_keras():
    p = mg.Variable([[0.0, 1.0]], dtype="float64")
    with mg.GradientTape() as tape:
        value = losses.BinaryCrossentropy()(np.array([[1.0, 0.0]]), p)
    np.testing.assert_allclose(float(value), -np.log(EPS), rtol=1e-6)
    assert np.isfinite(tape.gradient(value, p).numpy()).all()
    cce = losses.CategoricalCrossentropy()(np.array([[1.0, 0.0]]), mg.tensor([[0.0, 1.0]]))
    np.testing.assert_allclose(float(cce), -np.log(np.float32(EPS)), rtol=1e-5)


def test_probabilities_are_renormalised():
    # Keras divides by the sum over classes before clipping
    p = np.array([[0.2, 0.2, 0.4]])
    value = losses.CategoricalCrossentropy()(np.array([[0.0, 0.0, 1.0]]), mg.tensor(p))
    np.testing.assert_allclose(float(value), -np.log(0.5))


def test_float32_in_float32_out():
    y_pred = mg.tensor(rng.normal(size=(3, 2)).astype(np.float32))
    for name in ["mse", "mae", "categorical_crossentropy", "binary_crossentropy"]:
        assert losses.get(name)(rng.random((3, 2)), y_pred).dtype == np.float32
    assert losses.get("sparse_categorical_crossentropy")([0, 1, 1], y_pred).dtype == np.float32


def test_rank_fixups_like_keras():
    y_pred = mg.tensor([[0.5], [2.0]], dtype="float64")
    np.testing.assert_allclose(float(losses.get("mse")(np.array([1.0, 1.0]), y_pred)), 0.625)
    probs = mg.tensor([[0.9, 0.1], [0.2, 0.8]], dtype="float64")
    a = losses.get("sparse_categorical_crossentropy")(np.array([[0], [1]]), probs)
    b = losses.get("sparse_categorical_crossentropy")(np.array([0, 1]), probs)
    np.testing.assert_allclose(float(a), float(b))


def test_shape_errors():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        losses.get("categorical_crossentropy")(np.zeros((2, 3)), np.ones((2, 4)) / 4)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 4\)"):
        losses.get("sparse_categorical_crossentropy")(np.zeros(3, int), np.ones((2, 4)) / 4)


# -- weights and masks -----------------------------------------------------------------------


def test_sample_weight():
    t, p = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    sw = np.array([1.0, 0.0, 2.0, 0.5])
    per_sample = np.mean((p - t) ** 2, -1)
    value = losses.MeanSquaredError()(t, mg.tensor(p), sample_weight=sw)
    np.testing.assert_allclose(float(value), np.sum(per_sample * sw) / 4)


def test_mask_gives_mean_over_unmasked_steps():
    logits = rng.normal(size=(2, 4, 3))
    ids = rng.integers(0, 3, size=(2, 4))
    mask = np.array([[True, True, True, False], [True, False, False, False]])
    y_pred = mg.Variable(logits, dtype="float64")
    with mg.GradientTape() as tape:
        out = mg.identity(y_pred)
        mgl.set_keras_mask(out, mg.tensor(mask))
        value = losses.SparseCategoricalCrossentropy(from_logits=True)(ids, out)
    per_step = -np.sum(one_hot(ids, 3) * log_softmax(logits), -1)
    np.testing.assert_allclose(float(value), per_step[mask].mean(), rtol=1e-10)
    grad = tape.gradient(value, y_pred).numpy()
    np.testing.assert_array_equal(grad[~mask], 0.0)
    expected = (softmax(logits) - one_hot(ids, 3)) / mask.sum()
    np.testing.assert_allclose(grad[mask], expected[mask], rtol=1e-10)


def test_mask_with_sum_reduction_and_sample_weight():
    t, p = rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 3, 1))
    mask = np.array([[True, False, True], [True, True, True]])
    sw = np.array([2.0, 1.0])
    per_step = ((p - t) ** 2)[..., 0]
    out = mg.tensor(p)
    mgl.set_keras_mask(out, mask)
    summed = losses.MeanSquaredError(reduction="sum")(t, out)
    np.testing.assert_allclose(float(summed), per_step[mask].sum())
    weighted = losses.MeanSquaredError()(t, out, sample_weight=sw)
    np.testing.assert_allclose(float(weighted), (per_step * sw[:, None])[mask].sum() / mask.sum())


def test_fully_masked_batch_gives_zero():
    out = mg.tensor(rng.normal(size=(2, 3, 2)))
    mgl.set_keras_mask(out, np.zeros((2, 3), bool))
    assert float(losses.get("mse")(np.zeros((2, 3, 2)), out)) == 0.0


def test_mask_that_cannot_apply_is_explained():
    out = mg.tensor(rng.normal(size=(2, 3, 1)))
    mgl.set_keras_mask(out, np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"mask of shape \(2, 3\).*\(2,\).*timesteps"):
        losses.get("binary_crossentropy")(np.zeros((2, 3)), out)  # y_true (B, T) for (B, T, 1)


# -- lookup and construction -----------------------------------------------------------------


def test_get_by_keras_names():
    expected = {
        "mse": losses.MeanSquaredError,
        "mean_squared_error": losses.MeanSquaredError,
        "MSE": losses.MeanSquaredError,
        "mae": losses.MeanAbsoluteError,
        "mean_absolute_error": losses.MeanAbsoluteError,
        "binary_crossentropy": losses.BinaryCrossentropy,
        "categorical_crossentropy": losses.CategoricalCrossentropy,
        "sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
        "SparseCategoricalCrossentropy": losses.SparseCategoricalCrossentropy,
    }
    for name, cls in expected.items():
        assert type(losses.get(name)) is cls
    loss = losses.BinaryCrossentropy()
    assert losses.get(loss) is loss and losses.get(None) is None


def test_unknown_name_lists_allowed():
    with pytest.raises(ValueError, match=r"hinge.*'binary_crossentropy'.*'mse'"):
        losses.get("hinge")


def test_unknown_keyword_raises_type_error():
    with pytest.raises(TypeError, match="label_smoothingg"):
        losses.BinaryCrossentropy(label_smoothingg=0.1)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="average")


def test_function_is_wrapped():
    def halved_mse(y_true, y_pred):
        return mg.mean((y_pred - y_true) ** 2, axis=-1) / 2.0

    loss = losses.get(halved_mse)
    assert loss.name == "halved_mse"
    np.testing.assert_allclose(float(loss(np.zeros((2, 1)), np.ones((2, 1)))), 0.5)
