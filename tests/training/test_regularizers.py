"""Regularizers, constraints, add_loss and layer.losses (values against numpy, gradients, and
the counts of Keras 3's own RNN tests)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

rng = np.random.default_rng(6)
X = rng.normal(size=(4, 5, 3)).astype("float32")


@pytest.mark.parametrize("cls", [mgl.SimpleRNN, mgl.LSTM, mgl.GRU])
def test_keras_rnn_regularizer_and_variable_counts(cls):
    layer = cls(2, kernel_regularizer="l2", recurrent_regularizer="l2", bias_regularizer="l2")
    layer(X)
    assert len(layer.losses) == 3
    assert len(layer.trainable_variables) == 3 and len(layer.non_trainable_variables) == 0
    cell = layer.cell
    expected = sum(
        0.01 * np.sum(w.numpy() ** 2) for w in (cell.kernel, cell.recurrent_kernel, cell.bias)
    )
    assert float(sum(layer.losses)) == pytest.approx(expected, rel=1e-5)
    frozen = cls(2, trainable=False)
    frozen(X)
    assert len(frozen.trainable_variables) == 0 and len(frozen.non_trainable_variables) == 3


def test_regularizer_values_and_their_gradient():
    w = mg.Variable(rng.normal(size=(3, 2)))
    for reg, value, grad in [
        (mgl.regularizers.L1(0.3), 0.3 * np.abs(w.numpy()).sum(), 0.3 * np.sign(w.numpy())),
        (mgl.regularizers.L2(0.2), 0.2 * (w.numpy() ** 2).sum(), 0.4 * w.numpy()),
    ]:
        with mg.GradientTape() as tape:
            loss = reg(w)
        assert float(loss) == pytest.approx(value, rel=1e-5)
        np.testing.assert_allclose(tape.gradient(loss, w).numpy(), grad, rtol=1e-5)
    assert mgl.regularizers.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    reg = mgl.regularizers.L1L2(0.1, 0.2)
    assert type(reg).from_config(reg.get_config()).get_config() == reg.get_config()


def test_fit_adds_the_penalty_and_activity_regularization():
    x, y = rng.normal(size=(8, 3)).astype("float32"), np.zeros((8, 1), "float32")
    plain = mgl.Sequential([mgl.Input((3,)), mgl.Dense(1, kernel_initializer="ones")])
    penalized = mgl.Sequential(
        [
            mgl.Input((3,)),
            mgl.Dense(
                1,
                kernel_initializer="ones",
                kernel_regularizer=mgl.regularizers.L2(0.5),
                activity_regularizer=mgl.regularizers.L1(0.1),
            ),
        ]
    )
    for m in (plain, penalized):
        m.compile("sgd", loss="mse")
    base = plain.evaluate(x, y)
    out = penalized.predict(x, verbose=0)
    expected = base + 0.5 * 3.0 + 0.1 * np.abs(out).sum() / 8
    assert penalized.evaluate(x, y) == pytest.approx(expected, rel=1e-5)


def test_add_loss_in_a_custom_layer():
    class Penalized(mgl.layers.Layer):
        def call(self, inputs):
            self.add_loss(mg.sum(inputs) * 0.0 + 2.0)
            return inputs

    layer = Penalized()
    layer(np.ones((2, 2)))
    layer(np.ones((2, 2)))  # each call starts afresh
    assert [float(t) for t in layer.losses] == [2.0]
    with pytest.raises(ValueError, match=r"add_loss expects a scalar, received shape \(2,\)"):
        layer.add_loss(mg.tensor([1.0, 2.0]))


def test_constraints_are_applied_after_each_step():
    model = mgl.Sequential(
        [
            mgl.Input((3,)),
            mgl.Dense(2, kernel_constraint=mgl.constraints.MaxNorm(0.5), bias_constraint="non_neg"),
        ]
    )
    model.compile(mgl.optimizers.SGD(1.0), loss="mse")
    model.fit(rng.normal(size=(8, 3)), rng.normal(size=(8, 2)) * 10, epochs=2, verbose=0)
    kernel, bias = model.get_weights()
    assert np.all(np.linalg.norm(kernel, axis=0) <= 0.5 + 1e-5) and np.all(bias >= 0)
    w = rng.normal(size=(3, 4))
    np.testing.assert_allclose(np.linalg.norm(mgl.constraints.UnitNorm()(w), axis=0), 1.0, 1e-5)
    norms = np.linalg.norm(mgl.constraints.MinMaxNorm(1.0, 2.0)(w * 10), axis=0)
    assert np.all((norms <= 2 + 1e-5) & (norms >= 1 - 1e-5))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: mgl.regularizers.get("l3"), ValueError, "Unknown regularizer 'l3'"),
        (lambda: mgl.regularizers.L2(-1.0), ValueError, "l2 must be >= 0, received -1.0"),
        (lambda: mgl.constraints.get("positive"), ValueError, "Unknown constraint 'positive'"),
        (lambda: mgl.constraints.MinMaxNorm(2.0, 1.0), ValueError, "min_value <= max_value"),
    ],
)
def test_bad_regularizers_and_constraints(call, error, message):
    with pytest.raises(error, match=message):
        call()
