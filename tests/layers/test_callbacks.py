"""History, EarlyStopping, TerminateOnNaN, ProgbarLogger and CallbackList driven by hand (the
fit-driven tests are in test_training.py)."""

import math

import numpy as np
import pytest

from minigrad_layers import callbacks, metrics


class FakeModel:
    """What the callbacks touch: weights, stop_training, metrics."""

    def __init__(self):
        self.weights = [np.zeros(2)]
        self.stop_training = False
        self.metrics = [metrics.Mean("loss"), metrics.get("sparse_categorical_accuracy")]
        self.metrics[1].name = "accuracy"

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def drive(callback, values, key="val_loss", model=None):
    """Run epochs with the given monitored values; the weights hold the epoch number. Returns
    the number of epochs run and the model."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        model.weights = [np.full(2, float(epoch))]
        callback.on_epoch_end(epoch, {key: value})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs, model


def test_history_collects_epoch_logs():
    history = callbacks.History()
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    history.on_epoch_end(1, {"loss": 0.5, "val_loss": 1.5})
    assert history.history == {"loss": [1.0, 0.5], "val_loss": [2.0, 1.5]}
    assert history.epoch == [0, 1]


def test_patience_zero_stops_at_first_non_improvement():
    epochs, _ = drive(callbacks.EarlyStopping(), [3.0, 2.0, 2.5, 1.0])
    assert epochs == 3


def test_patience_counts_epochs_without_improvement():
    stop = callbacks.EarlyStopping(patience=2)
    epochs, _ = drive(stop, [3.0, 2.0, 2.5, 2.1, 1.0, 0.5])
    assert epochs == 4 and stop.stopped_epoch == 3 and stop.best == 2.0


def test_min_delta():
    # improvements smaller than min_delta do not count
    epochs, _ = drive(callbacks.EarlyStopping(min_delta=0.5), [3.0, 2.8, 2.7])
    assert epochs == 2


def test_auto_mode_maximizes_accuracy():
    stop = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    epochs, _ = drive(stop, [0.5, 0.6, 0.7, 0.65, 0.6, 0.9], key="val_accuracy")
    assert epochs == 4 and stop.best == 0.7


def test_explicit_mode():
    stop = callbacks.EarlyStopping(monitor="score", mode="max")
    epochs, _ = drive(stop, [1.0, 2.0, 1.5], key="score")
    assert epochs == 3
    with pytest.raises(ValueError, match="mode='min' or mode='max'"):
        drive(callbacks.EarlyStopping(monitor="score"), [1.0], key="score")
    with pytest.raises(ValueError, match="mode"):
        callbacks.EarlyStopping(mode="largest")


def test_restore_best_weights():
    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    epochs, model = drive(stop, [3.0, 1.0, 2.0, 2.5, 0.1])
    assert epochs == 4 and stop.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_restore_best_weights_also_when_not_stopped():
    # Keras 3: the best weights are restored at the end of training even without a stop
    stop = callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    _, model = drive(stop, [3.0, 1.0, 2.0])
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_baseline():
    # improvements that do not beat the baseline do not restart the wait (Keras 3)
    values = [3.0, 2.0, 2.0, 2.0, 2.0]
    epochs, _ = drive(callbacks.EarlyStopping(patience=2, baseline=0.5), values)
    assert epochs == 3
    epochs, _ = drive(callbacks.EarlyStopping(patience=2), values)
    assert epochs == 4


def test_start_from_epoch():
    stop = callbacks.EarlyStopping(start_from_epoch=2)
    epochs, _ = drive(stop, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert epochs == 4  # epochs 0 and 1 are not monitored; 3 does not improve on 2


def test_missing_monitor_warns():
    stop = callbacks.EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="val_loss.*available.*loss"):
        drive(stop, [1.0, 2.0], key="loss")


def test_reusable_across_fits():
    stop = callbacks.EarlyStopping(patience=0)
    drive(stop, [1.0, 2.0])
    epochs, _ = drive(stop, [5.0, 4.0, 3.0])
    assert epochs == 3


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="Callback"):
        callbacks.CallbackList([object()])


def test_batch_hooks_default_to_on_batch():
    seen = []

    class Recorder(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)

    callbacks.CallbackList([Recorder()]).on_train_batch_end(3, {})
    assert seen == [3]


def test_terminate_on_nan(capsys):
    model = FakeModel()
    stop = callbacks.TerminateOnNaN()
    stop.set_model(model)
    for batch, logs in enumerate([{"loss": 1.0}, {}, {"loss": 1e30}, None]):
        stop.on_train_batch_end(batch, logs)
    assert not model.stop_training and capsys.readouterr().out == ""
    for value in (math.nan, math.inf, -math.inf):
        model.stop_training = False
        stop.on_train_batch_end(3, {"loss": value})
        assert model.stop_training
        assert capsys.readouterr().out == "Batch 3: Invalid loss, terminating training\n"


def progbar(verbose, epochs=2, steps=3):
    logger = callbacks.ProgbarLogger()
    logger.set_params({"verbose": verbose, "epochs": epochs, "steps": steps})
    return logger


def run_fit_hooks(logger, epochs=2, steps=3):
    logger.on_train_begin()
    for epoch in range(epochs):
        logger.on_epoch_begin(epoch)
        for batch in range(steps):
            logger.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1)})
        logger.on_test_begin()  # validation: not shown
        logger.on_test_batch_end(0, {"loss": 9.0})
        logger.on_test_end({"loss": 9.0})
        logger.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 9.0})
    logger.on_train_end()


def test_progbar_lines_with_verbose_2(capsys):
    run_fit_hooks(progbar(2))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for epoch, line in enumerate(lines, start=1):
        head, seconds, logs = line.split(" - ", 2)
        assert head == f"Epoch {epoch}/2" and seconds.endswith("s") and float(seconds[:-1]) >= 0
        assert logs == "loss: 0.5000 - val_loss: 9.0000"


def test_progbar_bars_with_verbose_1(capsys):
    run_fit_hooks(progbar(1))
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "3/3" in out
    assert out.rstrip().endswith("loss: 0.5000 - val_loss: 9.0000]")  # the epoch's logs last
    # the validation gets no bar of its own: every refresh is an epoch's bar
    assert all(part.startswith("Epoch ") for part in out.strip("\r\n").split("\r"))


def test_progbar_after_fit_shows_evaluation(capsys):
    logger = progbar(2, epochs=1, steps=2)
    run_fit_hooks(logger, epochs=1, steps=2)
    capsys.readouterr()
    logger.on_test_begin()
    logger.on_test_batch_end(0, {"loss": 2.0})
    logger.on_test_end({"loss": 2.0, "mae": 1.0})
    assert capsys.readouterr().out == "loss: 2.0000 - mae: 1.0000\n"


def test_progbar_silent_with_verbose_0(capsys):
    logger = progbar(0)
    run_fit_hooks(logger)
    logger.on_test_begin()
    logger.on_test_end({"loss": 1.0})
    logger.on_predict_begin()
    logger.on_predict_batch_end(0, {"outputs": np.zeros(2)})
    logger.on_predict_end()
    assert capsys.readouterr().out == ""


def test_callback_list_adds_progbar_first_and_history_last():
    mine = callbacks.EarlyStopping()
    listed = callbacks.CallbackList([mine], add_history=True, add_progbar=True, params={})
    kinds = [type(c) for c in listed.callbacks]
    assert kinds == [callbacks.ProgbarLogger, callbacks.EarlyStopping, callbacks.History]
    assert listed.history is listed.callbacks[-1]
    # ones already present are used, not doubled
    present = [callbacks.History(), callbacks.ProgbarLogger()]
    listed = callbacks.CallbackList(present, add_history=True, add_progbar=True)
    assert listed.callbacks == present and listed.history is present[0]
    assert callbacks.CallbackList().callbacks == [] and callbacks.CallbackList().history is None
