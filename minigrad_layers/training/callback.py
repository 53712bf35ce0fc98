"""The base class of every callback: the hooks the training loops call (see ``callbacks.py``
for when each is called)."""

from __future__ import annotations


class Callback:
    """Base class: override the ``on_*`` methods you need. ``self.model`` is the model being
    trained (set by ``fit`` through ``set_model``); ``self.params`` holds ``epochs``, ``steps``
    and ``verbose`` (``epochs`` is 1 in ``evaluate`` and ``predict``)."""

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

    def on_test_begin(self, logs=None) -> None:
        """Called before evaluating (``evaluate``, and the validation at the end of an epoch)."""

    def on_test_end(self, logs=None) -> None:
        """Called after evaluating, with the loss and metrics over all the data."""

    def on_test_batch_begin(self, batch: int, logs=None) -> None:
        """Called before each evaluation batch."""

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        """Called after each evaluation batch with the running results."""

    def on_predict_begin(self, logs=None) -> None:
        """Called before ``predict``'s first batch."""

    def on_predict_end(self, logs=None) -> None:
        """Called after ``predict``'s last batch."""

    def on_predict_batch_begin(self, batch: int, logs=None) -> None:
        """Called before each prediction batch."""

    def on_predict_batch_end(self, batch: int, logs=None) -> None:
        """Called after each prediction batch; ``logs["outputs"]``: the batch's outputs."""
