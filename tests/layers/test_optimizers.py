"""Optimizers against numpy transcriptions of the Keras 3 update rules, over several steps."""

import numpy as np
import pytest

import minigrad as mg
from minigrad_layers import optimizers

STEPS = 6


def _grads(shape, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(steps)]


# -- numpy references (float64), written from the Keras 3 update_step formulas -----------------


def sgd_ref(w, grads, lr=0.01, momentum=0.0, nesterov=False):
    w, m = w.copy(), np.zeros_like(w)
    for g in grads:
        if momentum == 0:
            w = w - lr * g
        else:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
    return w


def adam_ref(w, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    w, m, v, v_hat = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        if amsgrad:
            v_hat = np.maximum(v_hat, v)
            w = w - lr_t * m / (np.sqrt(v_hat) + eps)
        else:
            w = w - lr_t * m / (np.sqrt(v) + eps)
    return w


def rmsprop_ref(w, grads, lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    w, v, a, mom = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        if centered:
            a = rho * a + (1 - rho) * g
            denominator = v - a * a + eps
        else:
            denominator = v + eps
        increment = lr * g / np.sqrt(denominator)
        if momentum > 0:
            mom = momentum * mom + increment
            w = w - mom
        else:
            w = w - increment
    return w


def run(opt, w0, grads):
    var = mg.Variable(w0, dtype="float64")
    for g in grads:
        opt.apply_gradients([(mg.tensor(g), var)])
    return var.numpy()


CASES = [
    (optimizers.SGD(), sgd_ref, {}),
    (optimizers.SGD(learning_rate=0.1), sgd_ref, {"lr": 0.1}),
    (optimizers.SGD(0.05, momentum=0.9), sgd_ref, {"lr": 0.05, "momentum": 0.9}),
    (
        optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        sgd_ref,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    ),
    (optimizers.Adam(), adam_ref, {}),
    (
        optimizers.Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-3),
        adam_ref,
        {"lr": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-3},
    ),
    (optimizers.Adam(0.01, amsgrad=True), adam_ref, {"lr": 0.01, "amsgrad": True}),
    (optimizers.RMSprop(), rmsprop_ref, {}),
    (
        optimizers.RMSprop(0.01, rho=0.8, momentum=0.5),
        rmsprop_ref,
        {"lr": 0.01, "rho": 0.8, "momentum": 0.5},
    ),
    (optimizers.RMSprop(0.01, centered=True), rmsprop_ref, {"lr": 0.01, "centered": True}),
    (
        optimizers.RMSprop(0.01, momentum=0.9, centered=True, epsilon=1e-4),
        rmsprop_ref,
        {"lr": 0.01, "momentum": 0.9, "centered": True, "eps": 1e-4},
    ),
]


@pytest.mark.parametrize(("opt", "ref", "kwargs"), CASES, ids=lambda c: getattr(c, "name", ""))
def test_matches_keras_formulas(opt, ref, kwargs):
    w0 = np.random.default_rng(5).normal(size=(3, 4))
    grads = _grads((3, 4))
    np.testing.assert_allclose(run(opt, w0, grads), ref(w0, grads, **kwargs), rtol=1e-12)
    assert opt.iterations == STEPS


def test_keras_docstring_example():
    # keras.optimizers.RMSprop docstring: lr 0.1, loss = var**2 / 2 from 10.0 gives 9.683772
    opt = optimizers.RMSprop(learning_rate=0.1)
    var = mg.Variable(10.0)
    with mg.GradientTape() as tape:
        loss = var * var / 2.0
    opt.apply_gradients([(tape.gradient(loss, var), var)])
    np.testing.assert_allclose(var.numpy(), 9.683772, rtol=1e-6)


def test_defaults_are_keras_defaults():
    assert optimizers.SGD().learning_rate == 0.01
    adam = optimizers.Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (
        0.001,
        0.9,
        0.999,
        1e-7,
        False,
    )
    rms = optimizers.RMSprop()
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (
        0.001,
        0.9,
        0.0,
        1e-7,
        False,
    )


@pytest.mark.parametrize("make", [optimizers.SGD, optimizers.Adam, optimizers.RMSprop])
def test_float32_stays_float32(make):
    kwargs = {"momentum": 0.5} if make is not optimizers.Adam else {}
    opt = make(learning_rate=0.1, **kwargs)
    var = mg.Variable(np.ones((2, 2), np.float32))
    opt.apply_gradients([(np.full((2, 2), 0.5, np.float32), var)])
    opt.apply_gradients([(mg.tensor(np.full((2, 2), 0.5, np.float32)), var)])
    assert var.dtype == np.float32
    assert all(s.dtype == np.float32 for s in opt._slots[id(var)][1].values())


def test_none_gradients_skipped_and_slots_lazy():
    opt = optimizers.Adam(0.1)
    a, b = mg.Variable([1.0, 2.0]), mg.Variable([3.0])
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients([(np.ones(2, np.float32), a), (None, b)])
    assert id(a) in opt._slots and id(b) not in opt._slots
    np.testing.assert_array_equal(b.numpy(), [3.0])
    opt.apply_gradients([(np.ones(2, np.float32), a), (np.ones(1, np.float32), b)])
    assert id(b) in opt._slots and opt.iterations == 2
    # b's first update uses t = 2: Keras counts steps per optimizer, not per variable
    lr_t = 0.1 * np.sqrt(1 - 0.999**2) / (1 - 0.9**2)
    m, v = 0.1 * 1.0, 0.001 * 1.0
    np.testing.assert_allclose(b.numpy(), [3.0 - lr_t * m / (np.sqrt(v) + 1e-7)], rtol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_over_several_variables_equals_one_optimizer_per_variable(amsgrad):
    # Adam computes in work arrays shared by all its variables (of different sizes); the result
    # is bit for bit what separate optimizers (one variable each) give, also when the list of
    # variables changes between steps.
    rng = np.random.default_rng(3)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    together = [mg.Variable(rng.normal(size=s).astype(np.float32)) for s in shapes]
    apart = [mg.Variable(v.numpy().copy()) for v in together]
    opt = optimizers.Adam(0.01, amsgrad=amsgrad)
    singles = [optimizers.Adam(0.01, amsgrad=amsgrad) for _ in shapes]
    for step in range(STEPS):
        grads = [rng.normal(size=s).astype(np.float32) for s in shapes]
        used = [0, 1, 2] if step != 3 else [2, 0]  # step 3: another list, another order
        opt.apply_gradients([(grads[i], together[i]) for i in used])
        for i in range(3):
            if i not in used:  # the single optimizer still counts the step, as opt does
                singles[i].iterations += 1
                continue
            singles[i].apply_gradients([(grads[i], apart[i])])
    for a, b in zip(together, apart, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for variable, single, twin in zip(together, singles, apart, strict=True):
        for name, slot in opt._slots_for(variable).items():
            np.testing.assert_array_equal(slot, single._slots_for(twin)[name])


def test_all_none_gradients_raise():
    with pytest.raises(ValueError, match="No gradients"):
        optimizers.SGD().apply_gradients([(None, mg.Variable([1.0]))])


def test_gradient_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r"\(1,\).*\(3,\)"):
        optimizers.SGD().apply_gradients([(np.ones(1), mg.Variable([1.0, 2.0, 3.0]))])


# -- clipping -------------------------------------------------------------------------------


def _clip_run(**clip):
    a, b = mg.Variable(np.zeros(3), dtype="float64"), mg.Variable(np.zeros(2), dtype="float64")
    opt = optimizers.SGD(learning_rate=1.0, **clip)
    ga, gb = np.array([3.0, 4.0, 0.0]), np.array([0.5, -12.0])
    opt.apply_gradients([(ga, a), (gb, b)])
    return -a.numpy(), -b.numpy(), ga, gb  # with lr 1 and no momentum, w = -clipped g


def test_clipnorm_clips_each_gradient():
    ca, cb, ga, gb = _clip_run(clipnorm=2.0)
    np.testing.assert_allclose(ca, ga * 2.0 / 5.0)  # ||ga|| = 5
    np.testing.assert_allclose(cb, gb * 2.0 / np.linalg.norm(gb))
    ca, cb, ga, gb = _clip_run(clipnorm=100.0)  # below the threshold: unchanged
    np.testing.assert_allclose(ca, ga)
    np.testing.assert_allclose(cb, gb)


def test_global_clipnorm_scales_all_together():
    ca, cb, ga, gb = _clip_run(global_clipnorm=2.0)
    norm = np.sqrt(np.sum(ga**2) + np.sum(gb**2))
    np.testing.assert_allclose(ca, ga * 2.0 / norm)
    np.testing.assert_allclose(cb, gb * 2.0 / norm)
    ca, _, ga, _ = _clip_run(global_clipnorm=1e3)
    np.testing.assert_allclose(ca, ga)


def test_clipvalue_clips_elementwise():
    ca, cb, ga, gb = _clip_run(clipvalue=1.0)
    np.testing.assert_allclose(ca, np.clip(ga, -1, 1))
    np.testing.assert_allclose(cb, np.clip(gb, -1, 1))


def test_clipping_before_adam_update():
    w0, grads = np.zeros(3), [np.array([30.0, -40.0, 0.0])] * 3
    opt = optimizers.Adam(0.1, clipnorm=1.0)
    expected = adam_ref(w0, [g / 50.0 for g in grads], lr=0.1)
    np.testing.assert_allclose(run(opt, w0, grads), expected, rtol=1e-12)


def test_zero_gradient_with_clipnorm_is_finite():
    var = mg.Variable(np.ones(2), dtype="float64")
    optimizers.SGD(clipnorm=1.0).apply_gradients([(np.zeros(2), var)])
    optimizers.SGD(global_clipnorm=1.0).apply_gradients([(np.zeros(2), var)])
    np.testing.assert_array_equal(var.numpy(), [1.0, 1.0])


def test_only_one_clip_option():
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=0.5)


# -- construction and lookup -----------------------------------------------------------------


@pytest.mark.parametrize("make", [optimizers.SGD, optimizers.Adam, optimizers.RMSprop])
def test_unknown_keyword_raises_type_error_naming_it(make):
    with pytest.raises(TypeError, match="lr") as info:
        make(lr=0.1)
    assert "learning_rate" in str(info.value)  # lists what is accepted


def test_sgd_momentum_validated():
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)


def test_learning_rate_validated():
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate="fast")


def test_get():
    assert isinstance(optimizers.get("sgd"), optimizers.SGD)
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    opt = optimizers.SGD(0.3)
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match=r"adagrad.*'adam'.*'rmsprop'.*'sgd'"):
        optimizers.get("adagrad")


def test_learning_rate_can_be_changed():
    opt = optimizers.SGD(0.1)
    opt.learning_rate = 1.0
    var = mg.Variable([1.0])
    opt.apply_gradients([(np.array([0.5], np.float32), var)])
    np.testing.assert_allclose(var.numpy(), [0.5])
