"""Callbacks: hooks that ``fit``, ``evaluate`` and ``predict`` call at the start and end of the
loop, of each epoch and of each batch (Keras semantics).

``fit`` calls, in order::

    on_train_begin(logs)
    for each epoch:  on_epoch_begin(epoch, logs)
        for each batch:  on_train_batch_begin(batch, logs)  ...  on_train_batch_end(batch, logs)
        with validation data:  on_test_begin, on_test_batch_begin/end per batch, on_test_end
        on_epoch_end(epoch, logs)     # logs: {"loss": ..., "accuracy": ..., "val_loss": ...}
    on_train_end(logs)

``evaluate`` calls the ``on_test_*`` hooks, ``predict`` the ``on_predict_*`` ones (batch logs:
``{"outputs": ...}``). ``on_train_batch_begin/end`` call ``on_batch_begin/end`` unless
overridden. Batch logs hold the running means of the epoch so far; epoch logs the epoch's means
and the validation results. Setting ``model.stop_training = True`` ends training after the
current batch.

``fit`` puts a ``ProgbarLogger`` (when ``verbose`` is not 0) first and a ``History`` last in
its ``CallbackList``; ``evaluate`` and ``predict`` add the ``ProgbarLogger`` only.

>>> import minigrad_layers as mgl
>>> class PrintLoss(mgl.callbacks.Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         print(epoch, round(logs["loss"], 3))
"""

from __future__ import annotations

import math
import sys
import time
import warnings

from tqdm import tqdm

from minigrad_layers.training.callback import Callback

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "ProgbarLogger",
    "TerminateOnNaN",
]


class CallbackList:
    """Calls every callback's hook in turn (what the loops talk to).

    ``add_history`` appends a ``History`` and ``add_progbar`` puts a ``ProgbarLogger`` first,
    each unless ``callbacks`` already holds one (as Keras's ``CallbackList``); ``history`` is the
    ``History`` in the list, or ``None``. The progress display comes first so that an epoch's
    line is complete before other callbacks print (Keras appends it last).
    """

    def __init__(
        self,
        callbacks=None,
        add_history: bool = False,
        add_progbar: bool = False,
        model=None,
        params: dict | None = None,
    ):
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "callbacks must be instances of mgl.callbacks.Callback, received "
                    f"{type(callback).__name__}"
                )
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if add_history and self.history is None:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        for callback in self.callbacks:
            if model is not None:
                callback.set_model(model)
            if params is not None:
                callback.set_params(params)

    def _call(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs)


class History(Callback):
    """Records the epoch logs: ``history`` maps each key (``"loss"``, ``"val_loss"``,
    ``"accuracy"``, ...) to its list of per-epoch values; ``epoch`` lists the epochs run.
    ``fit`` returns it (and sets ``model.history``)."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def _format_logs(logs) -> str:
    return " - ".join(f"{key}: {value:.4f}" for key, value in (logs or {}).items())


class ProgbarLogger(Callback):
    """Prints the progress of ``fit``, ``evaluate`` and ``predict`` to stdout, by
    ``params["verbose"]``: 0 nothing; 1 a tqdm bar counting steps, with the running logs (``fit``:
    one bar per epoch, ``Epoch 2/5``, its last postfix the epoch's logs with the validation
    results); 2 one line per epoch (``Epoch 2/5 - 0.3s - loss: 0.1234``) or, for ``evaluate``,
    one line of logs at the end. ``fit``, ``evaluate`` and ``predict`` add one when ``verbose``
    is not 0; the validation inside ``fit`` is not shown.

    >>> progbar = ProgbarLogger()
    >>> progbar.set_params({"verbose": 2, "epochs": 3, "steps": 4})
    >>> progbar.on_epoch_begin(0)
    >>> progbar.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})  # doctest: +ELLIPSIS
    Epoch 1/3 - ...s - loss: 0.5000 - val_loss: 0.7500
    """

    def __init__(self):
        super().__init__()
        self.verbose = 1
        self.epochs = 1
        self.steps = None
        self._bar = None
        self._epoch_started = 0.0
        self._called_in_fit = False

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.steps = params.get("steps")

    def _open_bar(self, desc: str | None = None) -> None:
        if self.verbose == 1:
            self._bar = tqdm(total=self.steps, desc=desc, unit="step", file=sys.stdout)

    def _advance_bar(self, logs) -> None:
        if self._bar is not None:
            if logs is not None:
                self._bar.set_postfix_str(_format_logs(logs), refresh=False)
            self._bar.update()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # -- fit -----------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_started = time.perf_counter()
        self._open_bar(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._advance_bar(logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix_str(_format_logs(logs))
            self._close_bar()
        elif self.verbose == 2:
            seconds = time.perf_counter() - self._epoch_started
            print(f"Epoch {epoch + 1}/{self.epochs} - {seconds:.1f}s - {_format_logs(logs)}")

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    # -- evaluate (not the validation inside fit) ----------------------------------------------
    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._open_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._advance_bar(logs or {})

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._close_bar()
            if self.verbose == 2:
                print(_format_logs(logs))

    # -- predict -------------------------------------------------------------------------------
    def on_predict_begin(self, logs=None):
        self._open_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._advance_bar(None)

    def on_predict_end(self, logs=None):
        self._close_bar()


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch ends with a NaN or infinite loss (Keras semantics):
    prints ``Batch 3: Invalid loss, terminating training`` (the batch counted from 0 within the
    epoch) and sets ``model.stop_training``, so ``fit`` ends after that batch (the epoch is still
    closed: validation, ``on_epoch_end``).

    >>> import numpy as np
    >>> import minigrad_layers as mgl
    >>> model = mgl.Sequential([mgl.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.array([[1.0], [np.nan], [2.0], [3.0]])
    >>> with warnings.catch_warnings():  # fit also warns about the NaN loss
    ...     warnings.simplefilter("ignore", RuntimeWarning)
    ...     history = model.fit(x, x, batch_size=1, shuffle=False, verbose=0,
    ...                         callbacks=[mgl.callbacks.TerminateOnNaN()])
    Batch 1: Invalid loss, terminating training
    >>> model.optimizer.iterations, len(history.history["loss"])
    (2, 1)
    """

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has stopped improving (Keras 3 semantics).

    After each epoch the monitored value is compared with the best so far: it improves when it
    beats the best by more than ``min_delta`` (lower in ``"min"`` mode, higher in ``"max"``;
    ``"auto"`` picks ``"min"`` for losses and errors, ``"max"`` for accuracies). After
    ``patience`` epochs without improvement, ``model.stop_training`` is set to True. With
    ``baseline``, the wait only restarts once the value also beats the baseline.
    ``restore_best_weights=True`` puts back, at the end of training, the weights of the best
    epoch (``model.get_weights()``/``set_weights``). No monitoring before ``start_from_epoch``.

    >>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(
                f"EarlyStopping mode must be 'auto', 'min' or 'max', received {mode!r}"
            )
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.on_train_begin()

    def _maximize(self) -> bool:
        """True when larger values of the monitored quantity are better."""
        if self.mode != "auto":
            return self.mode == "max"
        name = self.monitor.removeprefix("val_")
        if name == "loss":
            return False
        for metric in getattr(self.model, "metrics", None) or []:
            if metric.name == name:
                return getattr(metric, "direction", "down") == "up"
        raise ValueError(
            f"EarlyStopping cannot tell whether {self.monitor!r} should be minimized or "
            "maximized: pass mode='min' or mode='max'"
        )

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None  # set to -inf/+inf at the first monitored epoch, once the mode is known
        self.best_epoch = 0
        self.best_weights = None
        self._maximizing = None

    def _is_improvement(self, value: float, reference: float) -> bool:
        if self._maximizing:
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Early stopping conditioned on {self.monitor!r}, which is not available; "
                f"available: {sorted(logs)}",
                stacklevel=2,
            )
            return
        if epoch < self.start_from_epoch:
            return
        if self.best is None:  # first monitored epoch
            self._maximizing = self._maximize()
            self.best = -math.inf if self._maximizing else math.inf
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}"
                )
            self.model.set_weights(self.best_weights)


# The callbacks that watch a quantity live in a module of their own; mgl.callbacks has them all.
from minigrad_layers.training.callbacks_monitoring import (  # noqa: E402
    CSVLogger,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)

__all__ += [
    "CSVLogger",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ReduceLROnPlateau",
]
