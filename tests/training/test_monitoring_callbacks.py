"""ModelCheckpoint, LearningRateScheduler, ReduceLROnPlateau, CSVLogger and LambdaCallback."""

import csv

import numpy as np
import pytest

import minigrad_layers as mgl

rng = np.random.default_rng(8)
X = rng.normal(size=(16, 3)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")


def model():
    m = mgl.Sequential([mgl.Input((3,)), mgl.Dense(1)])
    m.compile(mgl.optimizers.SGD(0.05), loss="mse")
    return m


def test_model_checkpoint_every_epoch_and_best_only(tmp_path):
    m = model()
    pattern = str(tmp_path / "w-{epoch:02d}-{loss:.3f}.weights.h5")
    m.fit(
        X,
        Y,
        epochs=3,
        verbose=0,
        callbacks=[mgl.callbacks.ModelCheckpoint(pattern, save_weights_only=True, monitor="loss")],
    )
    assert len(list(tmp_path.glob("w-0*.weights.h5"))) == 3
    best = tmp_path / "best.weights.h5"
    checkpoint = mgl.callbacks.ModelCheckpoint(
        str(best), monitor="val_loss", save_best_only=True, save_weights_only=True
    )
    history = m.fit(X, Y, epochs=4, verbose=0, validation_data=(X, Y), callbacks=[checkpoint])
    assert checkpoint.best == min(history.history["val_loss"])
    twin = model()
    twin.load_weights(str(best))
    assert twin.evaluate(X, Y) == pytest.approx(checkpoint.best, rel=1e-5)


def test_model_checkpoint_names_an_unknown_key(tmp_path):
    checkpoint = mgl.callbacks.ModelCheckpoint(
        str(tmp_path / "{val_acc}.weights.h5"), save_weights_only=True
    )
    with pytest.raises(KeyError, match="names 'val_acc'.*available"):
        model().fit(X, Y, epochs=1, verbose=0, callbacks=[checkpoint])


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    m = model()
    history = m.fit(
        X,
        Y,
        epochs=3,
        verbose=0,
        callbacks=[mgl.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))],
    )
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.1 / 3])


def test_reduce_lr_on_plateau_waits_patience_then_cooldown():
    m = model()
    callback = mgl.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=2, cooldown=1, min_lr=0.01
    )
    callback.set_model(m)
    callback.on_train_begin()
    rates = []
    for epoch, loss in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]):
        callback.on_epoch_end(epoch, {"loss": loss})
        rates.append(m.optimizer.learning_rate)
    # improves at epoch 0; 2 epochs without -> halve at 2; the cooldown epoch (3) resets the
    # wait but counts towards the next plateau (Keras), so 4; then 6, floored at min_lr
    assert rates == pytest.approx([0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.01])


def test_csv_logger_writes_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    m = model()
    m.fit(X, Y, epochs=2, verbose=0, callbacks=[mgl.callbacks.CSVLogger(str(path))])
    m.fit(X, Y, epochs=1, verbose=0, callbacks=[mgl.callbacks.CSVLogger(str(path), append=True)])
    with open(path) as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["epoch", "loss"] and [r[0] for r in rows[1:]] == ["0", "1", "0"]
    with pytest.raises(ValueError, match="one character"):
        mgl.callbacks.CSVLogger(str(path), separator=";;")


def test_lambda_callback_and_stop_training():
    seen = []

    def stop_after_first(batch, logs):
        seen.append(batch)
        m.stop_training = True

    m = model()
    history = m.fit(
        X,
        Y,
        batch_size=4,
        epochs=3,
        verbose=0,
        callbacks=[mgl.callbacks.LambdaCallback(on_train_batch_end=stop_after_first)],
    )
    assert seen == [0] and len(history.history["loss"]) == 1
    with pytest.raises(TypeError, match=r"unknown hooks \['on_epoch_finish'\]"):
        mgl.callbacks.LambdaCallback(on_epoch_finish=print)
