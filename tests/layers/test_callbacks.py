"""History and EarlyStopping driven by hand (the fit-driven tests are in test_training.py)."""

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
