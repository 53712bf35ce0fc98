"""fit/evaluate/predict as Keras programs use them: several outputs with a list or dict of
losses and loss_weights, dicts keyed by name, *_on_batch, sample and class weights,
initial_epoch, steps_per_epoch and generators."""

import numpy as np
import pytest

import minigrad_layers as mgl

rng = np.random.default_rng(4)


def two_output_model():
    x = mgl.Input((3,), name="features")
    a = mgl.Dense(1, name="price")(x)
    b = mgl.Dense(2, activation="softmax", name="kind")(x)
    return mgl.Model(x, [a, b])


def data(n=16):
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, x[:, :1] * 2.0, rng.integers(0, 2, n)


def test_a_dict_of_losses_with_weights_and_the_history_keys_keras_gives():
    x, price, kind = data()
    model = two_output_model()
    model.compile(
        "sgd",
        loss={"price": "mse", "kind": "sparse_categorical_crossentropy"},
        loss_weights={"price": 2.0, "kind": 0.5},
    )
    history = model.fit(
        {"features": x},
        {"price": price, "kind": kind},
        epochs=2,
        verbose=0,
        validation_data=(x, [price, kind]),
    )
    assert sorted(history.history) == sorted(
        ["loss", "price_loss", "kind_loss"]
        + [f"val_{k}" for k in ["loss", "price_loss", "kind_loss"]]
    )
    logs = model.evaluate(x, [price, kind], return_dict=True)
    assert logs["loss"] == pytest.approx(2.0 * logs["price_loss"] + 0.5 * logs["kind_loss"], 1e-5)


def test_a_list_of_losses_and_an_output_without_loss():
    x, price, kind = data()
    model = two_output_model()
    model.compile("sgd", loss={"price": "mse"})
    logs = model.evaluate(x, [price, kind], return_dict=True)
    assert set(logs) == {"loss", "price_loss"} and logs["loss"] == pytest.approx(logs["price_loss"])
    model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.0])
    logs = model.evaluate(x, [price, kind], return_dict=True)
    assert logs["loss"] == pytest.approx(logs["price_loss"], 1e-6)


def test_on_batch_methods():
    x, price, kind = data(8)
    model = two_output_model()
    model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"])
    before = model.test_on_batch(x, [price, kind])
    model.train_on_batch(x, [price, kind])
    after = model.test_on_batch(x, [price, kind], return_dict=True)
    assert after["loss"] < before[0]
    outputs = model.predict_on_batch(x)
    assert [o.shape for o in outputs] == [(8, 1), (8, 2)]


def test_sample_and_class_weights_weight_the_loss():
    x, price, _ = data(6)
    model = mgl.Sequential([mgl.Input((3,)), mgl.Dense(1)])
    model.compile("sgd", loss="mse")
    per_sample = (model.predict(x, verbose=0) - price) ** 2
    weights = np.array([1.0, 0.0, 2.0, 0.0, 1.0, 0.0])
    weighted = model.evaluate(x, price, sample_weight=weights)
    assert weighted == pytest.approx(float((per_sample[:, 0] * weights).mean()), rel=1e-5)
    labels = np.array([0, 1, 0, 1, 0, 1])
    classifier = mgl.Sequential([mgl.Input((3,)), mgl.Dense(2, activation="softmax")])
    classifier.compile("sgd", loss="sparse_categorical_crossentropy")
    first = classifier.get_weights()
    classifier.fit(x, labels, class_weight={0: 1.0, 1: 0.0}, epochs=1, batch_size=6, verbose=0)
    only_class_0 = classifier.get_weights()
    classifier.set_weights(first)
    classifier.fit(x[::2], labels[::2], epochs=1, batch_size=6, verbose=0)
    for w0, a, b in zip(first, only_class_0, classifier.get_weights(), strict=True):
        # weight 0 for class 1 leaves the class-0 samples, averaged over all six: half the step
        np.testing.assert_allclose((a - w0) * 2, b - w0, rtol=1e-4, atol=1e-7)


def test_initial_epoch_and_steps_per_epoch():
    x, price, _ = data(16)
    model = mgl.Sequential([mgl.Input((3,)), mgl.Dense(1)])
    model.compile("sgd", loss="mse")
    seen = []
    callback = mgl.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))
    history = model.fit(x, price, epochs=5, initial_epoch=3, verbose=0, callbacks=[callback])
    assert seen == [3, 4] and len(history.history["loss"]) == 2
    batches = []
    counter = mgl.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    model.fit(x, price, batch_size=2, steps_per_epoch=3, epochs=2, verbose=0, callbacks=[counter])
    assert batches == [0, 1, 2, 0, 1, 2]


def test_fit_on_a_generator_and_on_a_list_of_batches():
    x, price, _ = data(16)

    def endless():
        while True:
            for start in range(0, 16, 4):
                yield x[start : start + 4], price[start : start + 4]

    model = mgl.Sequential([mgl.Input((3,)), mgl.Dense(1)])
    model.compile("sgd", loss="mse")
    history = model.fit(endless(), steps_per_epoch=4, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3
    batches = [(x[:8], price[:8]), (x[8:], price[8:], np.ones(8))]
    assert model.evaluate(batches) == pytest.approx(model.evaluate(x, price), rel=1e-5)
    with pytest.raises(ValueError, match="ran out of batches after 4 of the 5 steps"):
        model.fit((b for b in batches * 2), steps_per_epoch=5, verbose=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, x, y: m.fit(x, y, initial_epoch=3, epochs=2, verbose=0), r"in \[0, epochs=2\]"),
        (lambda m, x, y: m.fit(x, y, steps_per_epoch=0, verbose=0), "int >= 1, received 0"),
        (lambda m, x, y: m.fit(x, {"nope": y}, verbose=0), r"unknown keys \['nope'\]"),
        (lambda m, x, y: m.fit(x, y, sample_weight=np.ones(3), verbose=0), r"shape \(16,\)"),
        (lambda m, x, y: m.fit(x, y, class_weight={0: 1.0}, verbose=0), "no weight for classes"),
    ],
)
def test_bad_fit_arguments_are_named(call, message):
    x, price, _ = data(16)
    model = mgl.Sequential([mgl.Input((3,)), mgl.Dense(1, name="out")])
    model.compile("sgd", loss="mse")
    with pytest.raises((ValueError, TypeError), match=message):
        call(model, x, np.round(price))


def test_a_target_that_does_not_fit_its_output_names_both():
    x, price, kind = data(10)
    model = two_output_model()
    model.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match=r"Target 1 \(shape \(10, 3\)\).*output 'kind'.*\(10, 2\)"):
        model.fit(x, [price, np.zeros((10, 3))], verbose=0)
