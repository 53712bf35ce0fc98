"""Callbacks: hooks that ``fit`` calls at the start and end of training, of each epoch and of
each batch (Keras semantics).

``fit`` calls, in order::

    on_train_begin(logs)
    for each epoch:  on_epoch_begin(epoch, logs)
        for each batch:  on_train_batch_begin(batch, logs)  ...  on_train_batch_end(batch, logs)
        on_epoch_end(epoch, logs)     # logs: {"loss": ..., "accuracy": ..., "val_loss": ...}
    on_train_end(logs)

``on_train_batch_begin/end`` call ``on_batch_begin/end`` unless overridden. Batch logs hold the
running means of the epoch so far; epoch logs the epoch's means and the validation results.
Setting ``model.stop_training = True`` ends training after the current batch.

>>> import minigrad_layers as mgl
>>> class PrintLoss(mgl.callbacks.Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         print(epoch, round(logs["loss"], 3))
"""

from __future__ import annotations

import math
import warnings

__all__ = ["Callback", "CallbackList", "EarlyStopping", "History"]


class Callback:
    """Base class: override the ``on_*`` methods you need. ``self.model`` is the model being
    trained (set by ``fit`` through ``set_model``); ``self.params`` holds ``epochs``, ``steps``
    and ``verbose``."""

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None) -> None:
        """Called once before the first epoch."""

    def on_train_end(self, logs=None) -> None:
        """Called once after the last epoch (``logs``: the last epoch's)."""

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        """Called at the start of each epoch (counted from 0)."""

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        """Called at the end of each epoch, after validation, with the epoch's results."""

    def on_batch_begin(self, batch: int, logs=None) -> None:
        """Called before each training batch (counted from 0 within the epoch)."""

    def on_batch_end(self, batch: int, logs=None) -> None:
        """Called after each training batch with the epoch's running results."""

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.on_batch_end(batch, logs=logs)


class CallbackList:
    """Calls every callback's hook in turn (what ``fit`` talks to)."""

    def __init__(self, callbacks, model=None, params: dict | None = None):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "callbacks must be instances of mgl.callbacks.Callback, received "
                    f"{type(callback).__name__}"
                )
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
