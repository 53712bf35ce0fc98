"""The Trainer mixin: fit / evaluate / predict, first on small hand-written models that only use
mg, then end to end with real layers (at the bottom)."""

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers import callbacks, losses, optimizers
from minigrad_layers.layers import rnn
from minigrad_layers.training.trainer import NotCompiledError, Trainer

# -- stand-in models --------------------------------------------------------------------------


class StandIn(Trainer):
    """Holds mg.Variables; records what each call saw."""

    def __init__(self, *shapes, seed=0):
        rng = np.random.default_rng(seed)
        self.variables = [
            mg.Variable(rng.normal(size=s) * 0.5, name=f"v{i}", dtype="float32")
            for i, s in enumerate(shapes)
        ]
        self.layers = []
        self.calls = []  # (training, first input array)

    @property
    def trainable_weights(self):
        return list(self.variables)

    def get_weights(self):
        return [v.numpy().copy() for v in self.variables]

    def set_weights(self, weights):
        for v, w in zip(self.variables, weights, strict=True):
            v.assign(w)

    def __call__(self, x, training=False):
        first = x[0] if isinstance(x, list) else x
        self.calls.append((training, first.numpy().copy()))
        return self.forward(x)


class Linear(StandIn):
    def __init__(self, n_in, n_out, seed=0):
        super().__init__((n_in, n_out), (n_out,), seed=seed)

    def forward(self, x):
        w, b = self.variables
        return mg.matmul(x, w) + b


class TwoInputs(StandIn):
    def __init__(self):
        super().__init__((2, 1), (3, 1))

    def forward(self, x):
        a, b = x
        return mg.matmul(a, self.variables[0]) + mg.matmul(b, self.variables[1])


class TwoOutputs(Linear):
    def forward(self, x):
        out = super().forward(x)
        return [out, out * 2.0]


class TokenClassifier(StandIn):
    """Embedding(mask_zero=True) -> Dense by hand: ids (B, T) -> logits (B, T, C), with the mask
    ids != 0 attached to the output as an Embedding would propagate it."""

    def __init__(self, vocab=6, dim=4, classes=3):
        super().__init__((vocab, dim), (dim, classes))

    def forward(self, ids):
        table, kernel = self.variables
        out = mg.matmul(table[ids.numpy()], kernel)  # (B, T, C)
        mgl.set_keras_mask(out, ids.numpy() != 0)
        return out


def regression_data(n=96, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3
    return x, y


# -- fit ----------------------------------------------------------------------------------------


def test_fit_lowers_the_loss_and_returns_history():
    x, y = regression_data()
    model = Linear(3, 1)
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    initial = model.evaluate(x, y)
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    assert isinstance(history, callbacks.History) and model.history is history
    assert list(history.history) == ["loss"] and len(history.history["loss"]) == 5
    assert history.epoch == [0, 1, 2, 3, 4]
    assert model.evaluate(x, y) < initial / 2
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_training_flag_and_tape():
    x, y = regression_data(8)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    model.fit(x, y, batch_size=8, verbose=0, validation_data=(x, y))
    model.predict(x)
    assert [training for training, _ in model.calls] == [True, False, False]


def test_one_step_is_one_optimizer_update():
    x, y = regression_data(8)
    model = Linear(3, 1)
    model.compile(optimizers.SGD(0.1), "mse")
    w, b = model.get_weights()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    pred = x @ w + b
    grad_w = x.T @ (2 * (pred - y) / 8)
    np.testing.assert_allclose(model.variables[0].numpy(), w - 0.1 * grad_w, rtol=1e-5)
    assert model.optimizer.iterations == 1


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.zeros((20, 1), np.float32)
    model = Linear(2, 1)
    model.compile(optimizers.SGD(0.0), "mse")
    history = model.fit(x, y, batch_size=4, epochs=2, validation_split=0.25, verbose=0)
    trained = np.concatenate([a for training, a in model.calls if training])
    validated = np.concatenate([a for training, a in model.calls if not training])
    assert sorted(trained[:, 0]) == sorted(np.tile(x[:15, 0], 2))
    np.testing.assert_array_equal(validated, np.concatenate([x[15:], x[15:]]))
    assert list(history.history) == ["loss", "val_loss"] and len(history.history["val_loss"]) == 2


def test_validation_logs_include_metrics():
    x, y = regression_data(32)
    model = Linear(3, 1)
    model.compile("adam", "mse", metrics=["mae"])
    history = model.fit(x, y, epochs=2, validation_data=(x[:8], y[:8]), verbose=0)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x[:8], y[:8])[0])


def test_shuffling_follows_the_shared_generator():
    x = np.arange(24, dtype=np.float32).reshape(12, 2)
    y = np.zeros((12, 1), np.float32)

    def seen_order(shuffle, seed):
        mg.random.seed(seed)
        model = Linear(2, 1)
        model.compile(optimizers.SGD(0.0), "mse")
        model.fit(x, y, batch_size=5, epochs=2, shuffle=shuffle, verbose=0)
        return [a[:, 0] for _, a in model.calls]

    unshuffled = np.concatenate(seen_order(False, 0))
    np.testing.assert_array_equal(unshuffled, np.tile(x[:, 0], 2))
    first, again = seen_order(True, 3), seen_order(True, 3)
    assert [len(a) for a in first] == [5, 5, 2, 5, 5, 2]  # the last batch is smaller
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))
    epoch_1, epoch_2 = np.concatenate(first[:3]), np.concatenate(first[3:])
    assert sorted(epoch_1) == sorted(x[:, 0]) and not np.array_equal(epoch_1, epoch_2)


def test_verbosity(capsys):
    x, y = regression_data(16)
    model = Linear(3, 1)
    model.compile("sgd", "mse", metrics=["mae"])
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.5)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=2, validation_split=0.5)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2")
    assert all(key in lines[0] for key in ("loss: ", "mae: ", "val_loss: ", "val_mae: "))
    model.fit(x, y, epochs=2, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "2/2" in out and "loss: " in out


def test_callbacks_see_the_hooks_in_order():
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_batch_begin(self, batch, logs=None):
            events.append(f"batch_begin {batch}")

        def on_batch_end(self, batch, logs=None):
            events.append(f"batch_end {batch} {sorted(logs)}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, y = regression_data(6)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    recorder = Recorder()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[recorder])
    assert recorder.model is model and recorder.params == {"epochs": 2, "steps": 2, "verbose": 0}
    epoch = ["batch_begin 0", "batch_end 0 ['loss']", "batch_begin 1", "batch_end 1 ['loss']"]
    assert events == [
        "train_begin",
        "epoch_begin 0",
        *epoch,
        "epoch_end 0 ['loss']",
        "epoch_begin 1",
        *epoch,
        "epoch_end 1 ['loss']",
        "train_end",
    ]


def test_stop_training_from_a_batch_callback():
    class StopAfterThree(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 2:
                self.model.stop_training = True

    x, y = regression_data(40)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    history = model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[StopAfterThree()])
    assert model.optimizer.iterations == 3 and len(history.history["loss"]) == 1


def test_early_stopping_restores_best_weights():
    x, y = regression_data(32)
    model = Linear(3, 1)
    # a learning rate far too large: the loss grows after the first epoch
    model.compile(optimizers.SGD(1.5), "mse")
    snapshots = []

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((logs["loss"], self.model.get_weights()))

    stop = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    history = model.fit(
        x, y, batch_size=32, epochs=20, verbose=0, callbacks=[Snapshot(), stop], shuffle=False
    )
    losses_seen = history.history["loss"]
    best = int(np.argmin(losses_seen))
    assert len(losses_seen) == best + 3 < 20  # two epochs of patience after the best
    for restored, saved in zip(model.get_weights(), snapshots[best][1], strict=True):
        np.testing.assert_array_equal(restored, saved)


def test_progress_bar_is_one_callback_added_once(capsys):
    x, y = regression_data(16)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    # a ProgbarLogger passed in is used instead of a second one: two lines, not four
    model.fit(x, y, epochs=2, verbose=2, callbacks=[callbacks.ProgbarLogger()])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line[:9] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]


def test_epoch_line_comes_before_what_callbacks_print(capsys):
    class PrintEpoch(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(f"callback {epoch}")

    x, y = regression_data(16)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=2, verbose=2, callbacks=[PrintEpoch()])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line[:9] for line in lines] == ["Epoch 1/2", "callback ", "Epoch 2/2", "callback "]


def test_history_is_last_and_can_be_passed_in():
    class AddRate(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["rate"] = 0.5 * epoch

    x, y = regression_data(16)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    # History comes after the other callbacks: it records what they add to the logs
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[AddRate()])
    assert history.history["rate"] == [0.0, 0.5]
    mine = callbacks.History()
    assert model.fit(x, y, epochs=3, verbose=0, callbacks=[mine]) is mine is model.history
    assert mine.epoch == [0, 1, 2]


def test_validation_and_evaluate_and_predict_call_their_hooks():
    events = []

    class Recorder(callbacks.Callback):
        def __getattribute__(self, name):
            if name.startswith(("on_test", "on_predict", "on_epoch")):
                return lambda *args: events.append(name)
            return super().__getattribute__(name)

    x, y = regression_data(6)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    model.fit(x, y, batch_size=4, verbose=0, validation_data=(x, y), callbacks=[Recorder()])
    test = ["on_test_begin", *["on_test_batch_begin", "on_test_batch_end"] * 2, "on_test_end"]
    assert events == ["on_epoch_begin", *test, "on_epoch_end"]
    events.clear()
    model.evaluate(x, y, batch_size=4, callbacks=[Recorder()])
    assert events == test
    events.clear()
    outputs = []

    class Outputs(callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            outputs.append(logs["outputs"])

    prediction = model.predict(x, batch_size=4, callbacks=[Recorder(), Outputs()])
    predict = ["on_predict_batch_begin", "on_predict_batch_end"] * 2
    assert events == ["on_predict_begin", *predict, "on_predict_end"]
    np.testing.assert_array_equal(np.concatenate(outputs), prediction)


# -- non-finite losses -------------------------------------------------------------------------


def nan_data():
    """12 samples whose sixth input is NaN: with batch_size=4 and no shuffling, the loss turns
    NaN at the second step of the first epoch (and stays NaN: the update spreads it)."""
    x, y = regression_data(12)
    x[5, 1] = np.nan
    return x, y


def fit_warnings(model, *args, **kwargs):
    """fit's own non-finite loss warnings (numpy's overflow warnings left out)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(*args, **kwargs)
    return history, [w for w in caught if str(w.message).startswith("fit:")]


def test_a_nan_loss_warns_once_naming_epoch_and_step():
    x, y = nan_data()
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    history, caught = fit_warnings(model, x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    assert len(caught) == 1 and caught[0].category is RuntimeWarning
    assert "the loss became nan at epoch 1/3, step 2/3" in str(caught[0].message)
    assert "TerminateOnNaN" in str(caught[0].message)
    assert caught[0].filename == __file__  # it points at the fit call
    assert len(history.history["loss"]) == 3 and math.isnan(history.history["loss"][-1])
    # once per fit: a second fit warns again
    _, caught = fit_warnings(model, x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert len(caught) == 1 and "epoch 1/2, step 1/3" in str(caught[0].message)


def test_the_warning_names_where_a_diverging_loss_overflows():
    first_non_finite = []

    class Watch(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_batch_end(self, batch, logs=None):
            if not first_non_finite and not math.isfinite(logs["loss"]):
                first_non_finite.append((self.epoch + 1, batch + 1, logs["loss"]))

    x, y = regression_data(32)
    model = Linear(3, 1)
    model.compile(optimizers.SGD(5.0), "mse")  # far too large: the loss grows to inf
    _, caught = fit_warnings(
        model, x, y, batch_size=8, epochs=30, shuffle=False, verbose=0, callbacks=[Watch()]
    )
    epoch, step, loss = first_non_finite[0]
    assert epoch > 1 and len(caught) == 1
    assert f"the loss became {loss} at epoch {epoch}/30, step {step}/4" in str(caught[0].message)


def test_a_finite_loss_does_not_warn():
    x, y = regression_data(16)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)


def test_terminate_on_nan_stops_after_the_batch(capsys):
    x, y = nan_data()
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    stop = callbacks.TerminateOnNaN()
    history, _ = fit_warnings(
        model, x, y, batch_size=4, epochs=3, shuffle=False, verbose=0, callbacks=[stop]
    )
    assert capsys.readouterr().out == "Batch 1: Invalid loss, terminating training\n"
    assert model.optimizer.iterations == 2 and len(history.history["loss"]) == 1


def test_terminate_on_nan_also_stops_on_inf(capsys):
    x, y = regression_data(12)
    y[9] = np.inf
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    history, _ = fit_warnings(
        model,
        x,
        y,
        batch_size=4,
        epochs=3,
        shuffle=False,
        verbose=0,
        callbacks=[callbacks.TerminateOnNaN()],
    )
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"
    assert history.history["loss"] == [math.inf]


# -- evaluate / predict ------------------------------------------------------------------------


def test_evaluate_returns_loss_or_list():
    x, y = regression_data(10)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    expected = np.mean((x @ model.variables[0].numpy() + model.variables[1].numpy() - y) ** 2)
    value = model.evaluate(x, y, batch_size=4)
    assert isinstance(value, float) and value == pytest.approx(expected, rel=1e-5)
    model.compile("sgd", "mse", metrics=["mae", "mse"])
    assert model.metrics_names == ["loss"]  # metrics are built on the first batch
    result = model.evaluate(x, y, batch_size=3)
    assert model.metrics_names == ["loss", "mae", "mse"]
    assert len(result) == 3 and result[0] == pytest.approx(expected, rel=1e-5)
    assert result[2] == pytest.approx(expected, rel=1e-5)


def test_accuracy_through_evaluate():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]], np.float32)
    model = Linear(2, 2)
    model.variables[0].assign(np.eye(2))
    model.variables[1].assign(np.zeros(2))
    model.compile("sgd", losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"])
    _, accuracy = model.evaluate(x, np.array([0, 1, 1, 1]))
    assert accuracy == pytest.approx(0.75)


def test_predict_concatenates_batches():
    x, _ = regression_data(10)
    model = Linear(3, 1)
    out = model.predict(x, batch_size=4)  # no compile needed
    assert isinstance(out, np.ndarray) and out.shape == (10, 1)
    np.testing.assert_allclose(
        out, x @ model.variables[0].numpy() + model.variables[1].numpy(), rtol=1e-5
    )


def test_evaluate_and_predict_verbosity(capsys):
    x, y = regression_data(10)
    model = Linear(3, 1)
    model.compile("sgd", "mse", metrics=["mae"])
    model.evaluate(x, y, batch_size=4)
    model.predict(x, batch_size=4)
    assert capsys.readouterr().out == ""
    loss, mae = model.evaluate(x, y, batch_size=4, verbose=2)
    assert capsys.readouterr().out == f"loss: {loss:.4f} - mae: {mae:.4f}\n"
    model.evaluate(x, y, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    assert "3/3" in out and f"loss: {loss:.4f}" in out and "Epoch" not in out
    model.predict(x, batch_size=4, verbose=1)
    out = capsys.readouterr().out
    assert "3/3" in out and "loss" not in out


def test_multiple_inputs():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(12, 2)).astype("float32"), rng.normal(size=(12, 3)).astype("float32")
    y = a[:, :1] - b[:, 1:2]
    model = TwoInputs()
    model.compile(optimizers.SGD(0.1), "mse")
    history = model.fit([a, b], y, batch_size=4, epochs=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert model.predict([a, b], batch_size=5).shape == (12, 1)


def test_multiple_outputs():
    x, y = regression_data(12)
    model = TwoOutputs(3, 1)
    model.compile(optimizers.SGD(0.01), "mse", metrics=["mae"])
    loss, loss_1, loss_2, mae_1, mae_2 = model.evaluate(x, [y, 2 * y])
    out = x @ model.variables[0].numpy() + model.variables[1].numpy()
    assert loss == pytest.approx(np.mean((out - y) ** 2) * 5, rel=1e-5)  # (o-y)^2 + 4(o-y)^2
    assert loss == pytest.approx(loss_1 + loss_2, rel=1e-6)
    assert model.metrics_names == [
        "loss",
        "output_1_loss",
        "output_2_loss",
        "output_1_mae",
        "output_2_mae",
    ]
    assert mae_2 == pytest.approx(2 * mae_1, rel=1e-5)
    assert [p.shape for p in model.predict(x)] == [(12, 1), (12, 1)]


# -- masking -----------------------------------------------------------------------------------


def test_masked_loss_and_step_equal_the_unpadded_ones():
    """Padded batch (B, T) with a mask == every real token as its own length-1 sequence."""
    ids = np.array([[1, 2, 3, 0, 0], [4, 0, 0, 0, 0], [5, 1, 2, 4, 3]])
    labels = np.array([[0, 1, 2, 0, 0], [1, 0, 0, 0, 0], [2, 2, 0, 1, 1]])
    real = ids != 0
    tokens, token_labels = ids[real][:, None], labels[real][:, None]  # (N, 1)

    def one_step(x, y):
        model = TokenClassifier()
        model.compile(optimizers.SGD(0.5), losses.SparseCategoricalCrossentropy(from_logits=True))
        loss_before = model.evaluate(x, y, batch_size=len(x))
        model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
        return loss_before, model.get_weights()

    padded_loss, padded_weights = one_step(ids, labels)
    token_loss, token_weights = one_step(tokens, token_labels)
    assert padded_loss == pytest.approx(token_loss, rel=1e-6)
    for a, b in zip(padded_weights, token_weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_masked_accuracy_through_evaluate():
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    labels = np.array([[0, 1, 2], [1, 2, 2]])
    model = TokenClassifier()
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizers.SGD(0.0), loss, metrics=["accuracy"])
    model.variables[1].assign(np.zeros((4, 3)))  # all logits equal: argmax is class 0
    loss, accuracy = model.evaluate(ids, labels)
    assert accuracy == pytest.approx(1 / 3)  # real tokens: labels 0, 1, 1
    assert loss == pytest.approx(np.log(3), rel=1e-6)


# -- stateful layers ---------------------------------------------------------------------------


class FakeStatefulLayer:
    name = "lstm"
    stateful = True

    def __init__(self, batch_size):
        self.stateful_batch_size = batch_size


def test_stateful_data_size_must_be_a_multiple():
    x, y = regression_data(10)
    model = Linear(3, 1)
    model.layers = [FakeStatefulLayer(4)]
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"'lstm'.*batch size of 4.*10 samples"):
        model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    assert model.calls == []  # raised before training started
    with pytest.raises(ValueError, match=r"fixed batch size of 4.*batch_size is 32"):
        model.fit(x[:8], y[:8], verbose=0)
    with pytest.raises(ValueError, match="validation data has 6 samples"):
        model.fit(x[:8], y[:8], batch_size=4, validation_data=(x[:6], y[:6]), verbose=0)
    with pytest.raises(ValueError, match="10 samples"):
        model.predict(x, batch_size=4)
    model.fit(x[:8], y[:8], batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert [len(a) for _, a in model.calls] == [4, 4, 4, 4]


def test_stateful_without_fixed_batch_size_uses_batch_size():
    x, y = regression_data(10)
    model = Linear(3, 1)
    nested = type("Nested", (), {"layers": [FakeStatefulLayer(None)]})()
    model.layers = [nested]
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="batch size of 3.*10 samples"):
        model.evaluate(x, y, batch_size=3)
    model.evaluate(x, y, batch_size=5)


# -- errors ------------------------------------------------------------------------------------


def test_fit_before_compile():
    x, y = regression_data(4)
    with pytest.raises(NotCompiledError, match="compile"):
        Linear(3, 1).fit(x, y)
    # catchable as tf.keras 2 (RuntimeError) and Keras 3 (ValueError) raise it
    for kind in (RuntimeError, ValueError):
        with pytest.raises(kind):
            Linear(3, 1).evaluate(x, y)


def test_compile_without_loss():
    x, y = regression_data(4)
    model = Linear(3, 1)
    model.compile("sgd")
    with pytest.raises(ValueError, match="needs a loss"):
        model.fit(x, y)


def test_length_mismatch_names_both_sizes():
    x, y = regression_data(10)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="x has 10, y has 7"):
        model.fit(x, y[:7])
    with pytest.raises(ValueError, match=r"same number of samples, got \[12, 11\]"):
        TwoInputs().predict([np.zeros((12, 2)), np.zeros((11, 3))])


def test_unknown_names_at_compile():
    model = Linear(3, 1)
    with pytest.raises(ValueError, match="Unknown loss 'msee'"):
        model.compile("sgd", "msee")
    with pytest.raises(ValueError, match="Unknown optimizer 'adamw'"):
        model.compile("adamw", "mse")
    with pytest.raises(ValueError, match="Unknown metric 'f1'"):
        model.compile("sgd", "mse", metrics=["f1"])
    with pytest.raises(TypeError, match="list"):
        model.compile("sgd", "mse", metrics="accuracy")
    with pytest.raises(TypeError, match="lr"):
        model.compile("sgd", "mse", lr=0.1)


def test_bad_arguments():
    x, y = regression_data(10)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(x, y, validation_data=x)
    with pytest.raises(ValueError, match="y is required"):
        model.fit(x)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"epochs": 2.5}, TypeError, r"epochs must be an int >= 0, received 2\.5"),
        ({"epochs": 2.0}, TypeError, r"epochs .* received 2\.0"),
        ({"epochs": True}, TypeError, "epochs .* received True"),
        ({"epochs": -1}, ValueError, "epochs must be an int >= 0, received -1"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive int or None, received 0"),
        ({"batch_size": 4.0}, TypeError, r"batch_size .* received 4\.0"),
        ({"validation_split": 1.0}, ValueError, r"validation_split .* received 1\.0"),
        ({"validation_split": -0.1}, ValueError, r"validation_split .* received -0\.1"),
        ({"validation_split": "0.2"}, TypeError, "validation_split .* received '0.2'"),
        ({"verbose": 3}, ValueError, "verbose must be 0, 1, 2 or 'auto', received 3"),
        ({"verbose": "loud"}, ValueError, "verbose .* received 'loud'"),
        ({"verbose": 1.0}, ValueError, r"verbose .* received 1\.0"),
    ],
)
def test_fit_checks_its_arguments(kwargs, error, message):
    x, y = regression_data(10)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    with pytest.raises(error, match=message):
        model.fit(x, y, **kwargs)
    assert model.calls == []  # before any batch


def test_fit_argument_edge_values(capsys):
    x, y = regression_data(40)
    model = Linear(3, 1)
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=0, verbose=1)
    assert history.history == {} and history.epoch == [] and model.calls == []
    assert capsys.readouterr().out == ""
    model.fit(x, y, batch_size=None, epochs=np.int64(1), verbose=0)
    assert [len(a) for _, a in model.calls] == [32, 8]  # None is Keras's default of 32
    model.fit(x, y, verbose="auto", validation_split=0)
    assert "Epoch 1/1" in capsys.readouterr().out
    with pytest.raises(ValueError, match="verbose"):
        model.evaluate(x, y, verbose=5)
    with pytest.raises(TypeError, match="batch_size"):
        model.predict(x, batch_size="8")


# -- end to end with real layers -------------------------------------------------------------


def test_sequential_learns_a_synthetic_task():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]).astype(np.float32)
    model = mgl.Sequential([mgl.Dense(16, activation="tanh"), mgl.Dense(1)])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    initial = model.evaluate(x[:192], y[:192])[0]
    history = model.fit(x, y, batch_size=32, epochs=20, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert all(len(values) == 20 for values in history.history.values())
    assert history.history["loss"][-1] < initial / 2
    assert model.evaluate(x[:192], y[:192])[0] < initial / 2


def test_classification_with_accuracy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR-like quadrants
    model = mgl.Sequential([mgl.Dense(16, activation="relu"), mgl.Dense(2)])
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizers.Adam(0.03), loss, metrics=["accuracy"])
    history = model.fit(x, y, batch_size=20, epochs=30, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    probabilities = model.predict(x)
    assert probabilities.shape == (200, 2)
    predicted = np.argmax(probabilities, axis=1)
    assert np.mean(predicted == y) == pytest.approx(model.evaluate(x, y)[1])


def test_early_stopping_restores_best_weights_of_a_real_model():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [2.0], [3.0]], np.float32)
    model = mgl.Sequential([mgl.Dense(1)])
    model.compile(optimizers.SGD(0.05), "mse")
    snapshots = []

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    # the validation targets have the opposite sign: the better the fit, the worse val_loss
    history = model.fit(
        x, y, epochs=30, validation_data=(x, -y), verbose=0, callbacks=[Snapshot(), stop]
    )
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) == best + 3 < 30 and stop.best_epoch == best
    for restored, saved in zip(model.get_weights(), snapshots[best], strict=True):
        np.testing.assert_array_equal(restored, saved)


def _token_models(sequence_layer):
    """Two copies (same weights) of Embedding(mask_zero) -> [sequence layer] -> Dense."""
    built = []
    for _ in range(2):
        layers = [mgl.Embedding(7, 4, mask_zero=True)]
        if sequence_layer:
            layers.append(rnn.LSTM(5, return_sequences=True))
        layers.append(mgl.Dense(3))
        model = mgl.Sequential(layers)
        model.compile(optimizers.SGD(0.5), losses.SparseCategoricalCrossentropy(from_logits=True))
        model.predict(np.array([[1, 2]]))  # build
        built.append(model)
    built[1].set_weights(built[0].get_weights())
    return built


def _loss_and_grads(model, x, y):
    with mg.GradientTape() as tape:
        loss = model.loss(y, model(mg.tensor(x), training=True))
    return float(loss), [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]


PADDED_IDS = np.array([[1, 2, 3, 0, 0], [4, 0, 0, 0, 0], [5, 1, 2, 6, 3]])
PADDED_LABELS = np.array([[0, 1, 2, 2, 2], [1, 0, 0, 0, 0], [2, 2, 0, 1, 1]])


def test_masked_loss_equals_unpadded_loss_embedding_dense():
    padded_model, token_model = _token_models(sequence_layer=False)
    real = PADDED_IDS != 0
    tokens, token_labels = PADDED_IDS[real][:, None], PADDED_LABELS[real][:, None]  # (N, 1)
    padded_loss, padded_grads = _loss_and_grads(padded_model, PADDED_IDS, PADDED_LABELS)
    token_loss, token_grads = _loss_and_grads(token_model, tokens, token_labels)
    assert padded_loss == pytest.approx(token_loss, rel=1e-6)
    for a, b in zip(padded_grads, token_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    # and through fit: one full-batch step leaves the two models with the same weights
    padded_model.fit(PADDED_IDS, PADDED_LABELS, batch_size=3, verbose=0)
    token_model.fit(tokens, token_labels, batch_size=len(tokens), verbose=0)
    for a, b in zip(padded_model.get_weights(), token_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_masked_loss_equals_unpadded_loss_through_an_lstm():
    padded_model, single_model = _token_models(sequence_layer=True)
    lengths = (PADDED_IDS != 0).sum(axis=1)
    padded_loss, padded_grads = _loss_and_grads(padded_model, PADDED_IDS, PADDED_LABELS)
    # each sequence alone, unpadded; the masked mean is the mean over all real tokens
    total, n_tokens = 0.0, lengths.sum()
    grads = [np.zeros_like(g) for g in padded_grads]
    for ids, labels, length in zip(PADDED_IDS, PADDED_LABELS, lengths, strict=True):
        loss, seq_grads = _loss_and_grads(single_model, ids[None, :length], labels[None, :length])
        total += loss * length / n_tokens
        grads = [g + s * length / n_tokens for g, s in zip(grads, seq_grads, strict=True)]
    assert padded_loss == pytest.approx(total, rel=1e-5)
    for a, b in zip(padded_grads, grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_stateful_lstm_needs_a_dividing_batch_size():
    model = mgl.Sequential([rnn.LSTM(4, stateful=True, batch_input_shape=(4, 5, 3)), mgl.Dense(1)])
    model.compile("adam", "mse")
    x, y = np.zeros((10, 5, 3), np.float32), np.zeros((10, 1), np.float32)
    with pytest.raises(ValueError, match=r"batch size of 4.*10 samples"):
        model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    history = model.fit(x[:8], y[:8], batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(x[:8], batch_size=4).shape == (8, 1)


def test_functional_model_with_two_inputs():
    rng = np.random.default_rng(3)
    a_in, b_in = mgl.Input((2,)), mgl.Input((3,))
    out = mgl.Dense(1)(mgl.Concatenate()([mgl.Dense(4, activation="tanh")(a_in), b_in]))
    model = mgl.Model([a_in, b_in], out)
    model.compile(optimizers.Adam(0.02), "mse")
    a, b = rng.normal(size=(64, 2)), rng.normal(size=(64, 3))
    y = np.tanh(a[:, :1]) + b[:, 2:]
    history = model.fit([a, b], y, batch_size=16, epochs=25, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert model.predict([a, b]).shape == (64, 1)
