"""Callbacks that watch a quantity and act on it (Keras semantics): ``ModelCheckpoint`` saves,
``ReduceLROnPlateau`` and ``LearningRateScheduler`` set the learning rate, ``CSVLogger`` writes
the logs, ``LambdaCallback`` runs your functions. All are in ``mgl.callbacks``.

``monitor`` names a key of the epoch logs (``"val_loss"``, ``"accuracy"``, ...); ``mode``
``"min"``/``"max"`` says which way is better, ``"auto"`` takes ``"max"`` for accuracies and
``"min"`` otherwise.
"""

from __future__ import annotations

import csv
import math
import os
import warnings

from minigrad_layers.training.callback import Callback

__all__ = [
    "CSVLogger",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
]


class _Monitor:
    """Which values of ``monitor`` count as better, by more than ``min_delta``."""

    def __init__(self, monitor: str, mode: str, min_delta: float, owner: str):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner} mode must be 'auto', 'min' or 'max', received {mode!r}")
        self.monitor, self.min_delta = monitor, abs(min_delta)
        self.maximize = mode == "max" or (mode == "auto" and "acc" in monitor)
        self.best = -math.inf if self.maximize else math.inf

    def value(self, logs, owner: str):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"{owner} conditioned on {self.monitor!r}, which is not in the logs; available: "
                f"{sorted(logs or {})}",
                stacklevel=3,
            )
        return current

    def improves(self, value: float) -> bool:
        if self.maximize:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta


class ModelCheckpoint(Callback):
    """Save the whole model (``model.save``, a ``.keras`` file: config, weights and optimizer
    state) or its weights (``save_weights_only``, a ``.weights.h5`` file) after every epoch,
    or only when ``monitor`` improved (``save_best_only``). ``filepath`` may hold ``{epoch}``
    (counted from 1) and log keys with formats: ``"ckpt-{epoch:02d}-{val_loss:.2f}.weights.h5"``.
    Files are written crash-safe by the saving functions (a temporary file, then a rename).
    """

    def __init__(
        self,
        filepath,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq="epoch",
        initial_value_threshold: float | None = None,
    ):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint supports save_freq='epoch', received {save_freq!r}")
        self.filepath = os.fspath(filepath)
        suffix = ".weights.h5" if save_weights_only else ".keras"
        if not self.filepath.endswith(suffix):
            what = "weights" if save_weights_only else "whole models (save_weights_only=False)"
            raise ValueError(
                f"ModelCheckpoint saves {what} to files ending in {suffix!r} (Keras 3's "
                f"formats), received filepath={self.filepath!r}"
            )
        self.verbose, self.save_best_only = verbose, save_best_only
        self.save_weights_only = save_weights_only
        self._monitor = _Monitor(monitor, mode, 0.0, "ModelCheckpoint")
        if initial_value_threshold is not None:
            self._monitor.best = initial_value_threshold

    @property
    def best(self) -> float:
        return self._monitor.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            current = self._monitor.value(logs, "ModelCheckpoint")
            if current is None or not self._monitor.improves(current):
                return
            self._monitor.best = current
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as error:
            raise KeyError(
                f"ModelCheckpoint filepath {self.filepath!r} names {error}, which is not in the "
                f"logs; available: ['epoch', *{sorted(logs)}]"
            ) from None
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saving model to {path}")


class LearningRateScheduler(Callback):
    """At the start of each epoch, ``optimizer.learning_rate = schedule(epoch, lr)`` (``epoch``
    counted from 0, ``lr`` the current rate); the rate is recorded in the logs as
    ``"learning_rate"``."""

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler expects a function, received {schedule!r}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        rate = self.schedule(epoch, float(self.model.optimizer.learning_rate))
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
            raise ValueError(
                f"The learning-rate schedule must return a finite float, it returned {rate!r}"
            )
        self.model.optimizer.learning_rate = float(rate)
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved (by more than
    ``min_delta``) for ``patience`` epochs; then wait ``cooldown`` epochs before watching again;
    never below ``min_lr``."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ):
        super().__init__()
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau factor must be in [0, 1), received {factor!r}")
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self._arguments = (monitor, mode, min_delta)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self._monitor = _Monitor(*self._arguments, "ReduceLROnPlateau")
        self.wait = self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._monitor.value(logs, "ReduceLROnPlateau")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._monitor.improves(current):
            self._monitor.best, self.wait = current, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            optimizer = self.model.optimizer
            old = float(optimizer.learning_rate)
            if old > self.min_lr:
                optimizer.learning_rate = max(old * self.factor, self.min_lr)
                if self.verbose:
                    print(
                        f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                        f"{optimizer.learning_rate}."
                    )
            self.cooldown_counter, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Write the epoch logs to a CSV file: a header ``epoch,<keys>`` then one row per epoch
    (``append=True`` adds to an existing file, without a second header)."""

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger separator must be one character, received {separator!r}")
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._keys = None

    def on_train_begin(self, logs=None):
        self._keys = None
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename)
        self._header_written = bool(has_rows)
        if not self.append:
            open(self.filename, "w").close()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
        with open(self.filename, "a", newline="") as file:
            writer = csv.writer(file, delimiter=self.separator)
            if not self._header_written:
                writer.writerow(["epoch", *self._keys])
                self._header_written = True
            writer.writerow([epoch, *(logs.get(key, "NA") for key in self._keys)])


class LambdaCallback(Callback):
    """A callback from functions: ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``,
    ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)`` (also as
    ``on_batch_begin``/``on_batch_end``), ``on_train_begin(logs)``, ``on_train_end(logs)``."""

    _HOOKS = (
        "on_epoch_begin",
        "on_epoch_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_batch_begin",
        "on_batch_end",
        "on_train_begin",
        "on_train_end",
    )

    def __init__(self, **hooks):
        super().__init__()
        unknown = sorted(set(hooks) - set(self._HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback got unknown hooks {unknown}; it takes {self._HOOKS}")
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
