"""The training loop: ``Trainer``, the mixin that gives a model ``compile``, ``fit``, ``evaluate``
and ``predict`` (Keras semantics).

One training step, the heart of it all::

    with mg.GradientTape() as tape:
        outputs = model(x_batch, training=True)     # forward pass, recorded on the tape
        loss = loss_fn(y_batch, outputs)             # a scalar Tensor (masked steps ignored)
    grads = tape.gradient(loss, model.trainable_weights)   # one reverse sweep
    optimizer.apply_gradients(zip(grads, model.trainable_weights))

``fit`` has the outline of Keras's::

    callbacks.on_train_begin()
    for epoch in range(epochs):
        logs = self._train_epoch(...)   # on_epoch_begin, then per batch: _train_step and hooks
        logs.update(val_logs)           # "val_loss", ...: self._test_epoch on validation data
        callbacks.on_epoch_end(epoch, logs)   # History records the logs, EarlyStopping decides
        if self.stop_training: break
    callbacks.on_train_end(logs)

with running means of the loss and the metrics (weighted by batch size). ``evaluate`` is one
``_test_epoch``, ``predict`` one pass of ``_predict_step``. The arrays and their batches come from
``data.py``; the progress display is a callback (``callbacks.ProgbarLogger``).

The mixin relies only on: ``self(x, training=bool)`` returning a Tensor (or a list of them),
``self.trainable_weights``, ``self.get_weights()``/``set_weights()`` (for callbacks) and
``self.layers`` (to find stateful layers, whose fixed batch size must divide the data).

>>> import numpy as np
>>> import minigrad_layers as mgl
>>> model = mgl.Sequential([mgl.Dense(1)])  # doctest: +SKIP
>>> model.compile(optimizer="sgd", loss="mse")  # doctest: +SKIP
>>> history = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=2, verbose=0)  # doctest: +SKIP
>>> sorted(history.history)  # doctest: +SKIP
['loss']
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

import minigrad as mg
from minigrad_layers.training import callbacks as callbacks_module
from minigrad_layers.training import data as data_module
from minigrad_layers.training import losses as losses_module
from minigrad_layers.training import metrics as metrics_module
from minigrad_layers.training import optimizers as optimizers_module

__all__ = ["NotCompiledError", "Trainer"]


class NotCompiledError(RuntimeError, ValueError):
    """``fit``/``evaluate`` before ``compile``: a RuntimeError as in tf.keras 2 that is also a
    ValueError as in Keras 3, so code written for either catches it."""


def _check_epochs(epochs) -> int:
    """An int >= 0 (Keras runs ``range(epochs)``, so a float is an error, not rounded)."""
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral):
        raise TypeError(f"epochs must be an int >= 0, received {epochs!r}")
    if epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, received {epochs}")
    return int(epochs)


def _check_verbose(verbose) -> int:
    """0 (silent), 1 (progress bar), 2 (one line per epoch) or ``"auto"`` (1, as in Keras)."""
    if verbose == "auto":
        return 1
    if not isinstance(verbose, numbers.Integral) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return int(verbose)


class _NonFiniteLossWarning(callbacks_module.Callback):
    """Warns (``RuntimeWarning``) once per ``fit``, at the first batch whose loss is NaN or
    infinite, naming the epoch and step as the progress bar counts them."""

    # frames from ``warnings.warn`` up to the caller of ``fit``: this hook, CallbackList._call,
    # CallbackList.on_train_batch_end, Trainer._train_epoch, Trainer.fit
    _STACKLEVEL = 6

    def on_train_begin(self, logs=None):
        self.warned = False

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if self.warned or loss is None or math.isfinite(loss):
            return
        self.warned = True
        warnings.warn(
            f"fit: the loss became {loss} at epoch {self.epoch + 1}/{self.params['epochs']}, "
            f"step {batch + 1}/{self.params['steps']}; the weights are likely no longer finite. "
            "Check the data for NaN or inf, lower the learning rate, or stop training with "
            "callbacks=[mgl.callbacks.TerminateOnNaN()]",
            RuntimeWarning,
            stacklevel=self._STACKLEVEL,
        )


# ---------------------------------------------------------------------------------------------
# the mixin
# ---------------------------------------------------------------------------------------------


class Trainer:
    """``compile``/``fit``/``evaluate``/``predict`` for a model (mixed into ``Model``)."""

    # -- configuration -------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None) -> None:
        """Choose the optimizer (name or instance), the loss (name, ``Loss`` instance or function
        ``fn(y_true, y_pred)``) and the metrics (a list of names such as ``"accuracy"``,
        ``"mae"``, or ``Metric`` instances), as in Keras."""
        if metrics is None:
            metrics = []
        if isinstance(metrics, str) or not isinstance(metrics, list | tuple):
            raise TypeError(
                f"compile(metrics=...) expects a list such as ['accuracy'], received {metrics!r}"
            )
        for metric in metrics:
            metrics_module.check(metric)
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = losses_module.get(loss)
        self._metric_specs = list(metrics)
        self._loss_tracker = metrics_module.Mean("loss")
        self._compiled_metrics = None  # [(output index, Metric)], built on the first batch
        self.compiled = True
        self.stop_training = False

    def _assert_compiled(self, method: str) -> None:
        if not getattr(self, "compiled", False):
            raise NotCompiledError(
                f"You must call compile() before {method}(), e.g. "
                "model.compile(optimizer='adam', loss='mse')"
            )
        if self.loss is None:
            raise ValueError(
                f"{method}() needs a loss: compile() was called without one, e.g. "
                "model.compile(optimizer='adam', loss='mse')"
            )

    @property
    def metrics(self) -> list:
        """The running metrics: the loss tracker first, then the compiled metrics (once built)."""
        if not getattr(self, "compiled", False):
            return []
        return [self._loss_tracker, *(m for _, m in self._compiled_metrics or [])]

    @property
    def metrics_names(self) -> list[str]:
        """Names of :attr:`metrics`, in the order ``evaluate`` returns their values."""
        return [m.name for m in self.metrics]

    # -- pieces of a step ----------------------------------------------------------------------
    def _compute_loss(self, ys: list[np.ndarray], outputs: list) -> mg.Tensor:
        """The compiled loss of each output against its target, summed over outputs."""
        if len(ys) != len(outputs):
            raise ValueError(
                f"The model has {len(outputs)} output(s) but y holds {len(ys)} array(s); pass "
                "one target array per output"
            )
        total = None
        for y, out in zip(ys, outputs, strict=True):
            value = self.loss(y, out)
            total = value if total is None else total + value
        return total

    def _build_metrics(self, ys: list[np.ndarray], outputs: list) -> None:
        """Resolve the compiled metrics against the first batch (``"accuracy"`` needs shapes);
        with several outputs, names get the output's name as prefix, as in Keras."""
        names = getattr(self, "output_names", None) or [
            f"output_{i + 1}" for i in range(len(outputs))
        ]
        built = []
        for i, (y, out) in enumerate(zip(ys, outputs, strict=True)):
            for spec in self._metric_specs:
                metric = metrics_module.get(spec, loss=self.loss, y_true=y, y_pred=out.numpy())
                if len(outputs) > 1:
                    metric.name = f"{names[i]}_{metric.name}"
                built.append((i, metric))
        self._compiled_metrics = built

    def _update_metrics(self, loss: mg.Tensor, ys, outputs, n: int) -> None:
        if self._compiled_metrics is None:
            self._build_metrics(ys, outputs)
        self._loss_tracker.update_state(float(loss), sample_weight=n)
        for i, metric in self._compiled_metrics:
            metric.update_state(ys[i], outputs[i])

    def _reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def _results(self) -> dict[str, float]:
        return {metric.name: metric.result() for metric in self.metrics}

    def _train_step(self, x_batch, ys: list[np.ndarray]) -> dict[str, float]:
        """One optimisation step on one batch; returns the epoch's running results."""
        with mg.GradientTape() as tape:
            outputs = self(x_batch, training=True)
            outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
            loss = self._compute_loss(ys, outputs)
        weights = self.trainable_weights
        grads = tape.gradient(loss, weights)
        self.optimizer.apply_gradients(zip(grads, weights, strict=True))
        self._update_metrics(loss, ys, outputs, len(ys[0]))
        return self._results()

    def _test_step(self, x_batch, ys: list[np.ndarray]) -> dict[str, float]:
        """Loss and metrics on one batch, in inference mode (no tape, no update)."""
        outputs = self(x_batch, training=False)
        outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
        loss = self._compute_loss(ys, outputs)
        self._update_metrics(loss, ys, outputs, len(ys[0]))
        return self._results()

    # -- stateful layers -----------------------------------------------------------------------
    def _stateful_layer(self):
        """A stateful layer, preferring one whose batch size is already fixed; ``None`` when
        there is none. Nested models and wrappers (``Bidirectional``) are searched inside."""
        found = None
        pending = list(getattr(self, "layers", None) or [])
        while pending:
            layer = pending.pop(0)
            inner = [
                *(getattr(layer, "layers", None) or []),
                *(getattr(layer, name, None) for name in ("forward_layer", "backward_layer")),
            ]
            inner = [sub for sub in inner if sub is not None]
            if inner:
                pending.extend(inner)
            elif getattr(layer, "stateful", False) and (
                found is None or getattr(layer, "stateful_batch_size", None) is not None
            ):
                found = layer
        return found

    def _check_stateful(self, n: int, batch_size: int, what: str) -> None:
        """A stateful layer runs on one fixed batch size: it must be the batch size used and
        divide the number of samples, else every epoch would end on a batch it rejects."""
        layer = self._stateful_layer()
        if layer is None:
            return
        name = getattr(layer, "name", type(layer).__name__)
        fixed = getattr(layer, "stateful_batch_size", None)
        if fixed is not None and batch_size != fixed:
            raise ValueError(
                f"Layer {name!r} is stateful with a fixed batch size of {fixed}, but batch_size "
                f"is {batch_size}; pass batch_size={fixed}"
            )
        size = fixed if fixed is not None else batch_size
        if n % size:
            raise ValueError(
                f"Layer {name!r} is stateful with a batch size of {size}, but the {what} has {n} "
                f"samples, which is not a multiple of {size}: trim or pad the data to "
                f"{n - n % size} or {n + size - n % size} samples"
            )

    # -- loops over batches ------------------------------------------------------------------
    def _callback_list(self, callbacks, verbose: int, steps: int, epochs: int = 1, fit=False):
        """The loop's callbacks with a ``ProgbarLogger`` when ``verbose`` asks for one (and, in
        ``fit``, the non-finite loss warning first and a ``History`` last)."""
        callbacks = [_NonFiniteLossWarning(), *(callbacks or [])] if fit else callbacks
        return callbacks_module.CallbackList(
            callbacks,
            add_history=fit,
            add_progbar=verbose != 0,
            model=self,
            params={"epochs": epochs, "steps": steps, "verbose": verbose},
        )

    def _train_epoch(self, epoch, data, batch_size, shuffle, callback_list) -> dict[str, float]:
        """One pass of ``_train_step`` over ``data`` (until ``stop_training``); the epoch's
        training logs."""
        self._reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for step, (x_batch, y_batch) in enumerate(data.batches(batch_size, shuffle)):
            callback_list.on_train_batch_begin(step)
            callback_list.on_train_batch_end(step, self._train_step(x_batch, y_batch))
            if self.stop_training:
                break
        return self._results()

    def _test_epoch(self, data, batch_size, callback_list) -> dict[str, float]:
        """One pass of ``_test_step`` over ``data`` (``evaluate``, and validation in ``fit``);
        the loss and metrics over all of it."""
        self._reset_metrics()
        callback_list.on_test_begin()
        for step, (x_batch, y_batch) in enumerate(data.batches(batch_size)):
            callback_list.on_test_batch_begin(step)
            callback_list.on_test_batch_end(step, self._test_step(x_batch, y_batch))
        logs = self._results()
        callback_list.on_test_end(logs)
        return logs

    def _predict_step(self, x_batch):
        """The outputs on one batch as numpy (a list for several outputs), inference mode."""
        outputs = self(x_batch, training=False)
        if isinstance(outputs, list | tuple):
            return [np.asarray(o) for o in outputs]
        return np.asarray(outputs)

    # -- public loops --------------------------------------------------------------------------
    def fit(
        self,
        x=None,
        y=None,
        batch_size: int | None = 32,
        epochs: int = 1,
        shuffle: bool = True,
        validation_data=None,
        validation_split: float = 0.0,
        verbose: int | str = 1,
        callbacks=None,
    ) -> callbacks_module.History:
        """Train for ``epochs`` passes over ``(x, y)``; returns a ``History``.

        ``x`` is an array or a list of arrays (several inputs); ``y`` likewise (several outputs).
        ``batch_size`` (``None``: 32) samples per step; the last batch may be smaller.
        ``shuffle`` reorders the samples each epoch (with ``mg.random.generator()``, so
        ``mg.random.seed`` makes it repeatable). ``validation_split`` holds out the *last*
        fraction of the samples, before any shuffling; ``validation_data=(x_val, y_val)`` gives
        them explicitly. ``verbose``: 0 silent, 1 a progress bar per epoch, 2 one line per epoch
        (``"auto"``: 1). A loss that turns NaN or infinite is warned about once
        (``RuntimeWarning``); ``callbacks=[mgl.callbacks.TerminateOnNaN()]`` stops there.
        """
        self._assert_compiled("fit")
        epochs, verbose = _check_epochs(epochs), _check_verbose(verbose)
        batch_size = data_module.check_batch_size(batch_size)
        train, validation = data_module.training_and_validation(
            x, y, validation_data, validation_split
        )
        self._check_stateful(train.num_samples, batch_size, "training data")
        if validation is not None:
            self._check_stateful(validation.num_samples, batch_size, "validation data")
        steps = train.num_batches(batch_size)
        callback_list = self._callback_list(callbacks, verbose, steps, epochs, fit=True)
        self.stop_training = False
        logs: dict[str, float] = {}
        callback_list.on_train_begin()
        for epoch in range(epochs):
            logs = self._train_epoch(epoch, train, batch_size, shuffle, callback_list)
            if validation is not None:
                val_logs = self._test_epoch(validation, batch_size, callback_list)
                logs.update({f"val_{key}": value for key, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        self.history = callback_list.history
        return self.history

    def evaluate(
        self, x=None, y=None, batch_size: int | None = 32, verbose: int | str = 0, callbacks=None
    ):
        """The loss on ``(x, y)`` (mean over samples), or ``[loss, *metrics]`` when metrics were
        compiled (in the order of :attr:`metrics_names`). ``verbose``: 0 silent, 1 a progress
        bar, 2 one line with the results."""
        self._assert_compiled("evaluate")
        verbose = _check_verbose(verbose)
        batch_size = data_module.check_batch_size(batch_size)
        data = data_module.ArrayData(x, y)
        self._check_stateful(data.num_samples, batch_size, "data")
        callback_list = self._callback_list(callbacks, verbose, data.num_batches(batch_size))
        values = list(self._test_epoch(data, batch_size, callback_list).values())
        return values[0] if len(values) == 1 else values

    def predict(self, x=None, batch_size: int | None = 32, verbose: int | str = 0, callbacks=None):
        """The model's outputs on ``x`` as numpy, in inference mode, concatenated over batches
        (a list of arrays for a model with several outputs). ``verbose``: 1 a progress bar."""
        verbose = _check_verbose(verbose)
        batch_size = data_module.check_batch_size(batch_size)
        data = data_module.ArrayData(x, targets=False)
        self._check_stateful(data.num_samples, batch_size, "data")
        callback_list = self._callback_list(callbacks, verbose, data.num_batches(batch_size))
        callback_list.on_predict_begin()
        batches = []
        for step, (x_batch, _) in enumerate(data.batches(batch_size)):
            callback_list.on_predict_batch_begin(step)
            batches.append(self._predict_step(x_batch))
            callback_list.on_predict_batch_end(step, {"outputs": batches[-1]})
        callback_list.on_predict_end()
        if isinstance(batches[0], list):
            return [np.concatenate(parts, axis=0) for parts in zip(*batches, strict=True)]
        return np.concatenate(batches, axis=0)
