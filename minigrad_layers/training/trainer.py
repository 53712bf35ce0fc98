"""The training loop: ``Trainer``, the mixin that gives a model ``compile``, ``fit``, ``evaluate``
and ``predict`` (Keras semantics).

One training step, the heart of it all::

    with mg.GradientTape() as tape:
        outputs = model(x_batch, training=True)     # forward pass, recorded on the tape
        loss = loss_fn(y_batch, outputs)             # a scalar Tensor (masked steps ignored)
        loss += sum(model.losses)                    # regularization, add_loss terms
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
``self.layers`` (to find stateful layers, whose fixed batch size must divide the data); and,
when the model is a Layer, its ``losses`` and weight constraints (``engine/layer_losses.py``).

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
from minigrad_layers.training import metrics as metrics_module
from minigrad_layers.training import optimizers as optimizers_module
from minigrad_layers.training.compiled_loss import CompiledLoss

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
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None) -> None:
        """Choose the optimizer (name or instance), the loss (name, ``Loss`` instance or function
        ``fn(y_true, y_pred)``; with several outputs also a list, or a dict keyed by output
        name, see ``compiled_loss.py``), ``loss_weights`` (a list or dict) and the metrics (a
        list of names such as ``"accuracy"``, ``"mae"``, or ``Metric`` instances), as in
        Keras."""
        if metrics is None:
            metrics = []
        if isinstance(metrics, str) or not isinstance(metrics, list | tuple):
            raise TypeError(
                f"compile(metrics=...) expects a list such as ['accuracy'], received {metrics!r}"
            )
        for metric in metrics:
            metrics_module.check(metric)
        self.optimizer = optimizers_module.get(optimizer)
        self._compiled_loss = CompiledLoss(loss, loss_weights)
        self.loss = loss if isinstance(loss, dict | list | tuple) else self._compiled_loss.single
        self._metric_specs = list(metrics)
        self._compile_args = {"loss": loss, "loss_weights": loss_weights, "metrics": list(metrics)}
        self._loss_tracker = metrics_module.Mean("loss")
        self._compiled_metrics = None  # [(output index, Metric)], built on the first batch
        self._output_loss_trackers = []  # one Mean per output with several outputs
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
        return [
            self._loss_tracker,
            *self._output_loss_trackers,
            *(m for _, m in self._compiled_metrics or []),
        ]

    @property
    def metrics_names(self) -> list[str]:
        """Names of :attr:`metrics`, in the order ``evaluate`` returns their values."""
        return [m.name for m in self.metrics]

    # -- pieces of a step ----------------------------------------------------------------------
    def _output_names(self, count: int) -> list[str]:
        names = getattr(self, "output_names", None) or []
        return names if len(names) == count else [f"output_{i + 1}" for i in range(count)]

    def _compute_loss(self, ys: list[np.ndarray], outputs: list, sample_weight=None):
        """``(total, per_output)``: the compiled losses of the outputs against their targets,
        weighted and summed, plus the layers' regularization and ``add_loss`` terms."""
        if self._compiled_loss.losses is None:
            self._compiled_loss.build(self._output_names(len(outputs)))
        total, per_output = self._compiled_loss(ys, outputs, sample_weight)
        for extra in getattr(self, "losses", None) or []:
            total = total + extra
        return total, per_output

    def _build_metrics(self, ys: list[np.ndarray], outputs: list) -> None:
        """Resolve the compiled metrics against the first batch (``"accuracy"`` needs shapes);
        with several outputs, names get the output's name as prefix, as in Keras, and each
        output's loss is tracked as ``"<name>_loss"``."""
        names = self._output_names(len(outputs))
        built = []
        for i, (y, out) in enumerate(zip(ys, outputs, strict=True)):
            loss = self._compiled_loss.losses[i]
            for spec in self._metric_specs:
                metric = metrics_module.get(spec, loss=loss, y_true=y, y_pred=out.numpy())
                if len(outputs) > 1:
                    metric.name = f"{names[i]}_{metric.name}"
                built.append((i, metric))
        self._compiled_metrics = built
        if len(outputs) > 1:
            self._output_loss_trackers = [
                metrics_module.Mean(f"{name}_loss")
                for name, loss in zip(names, self._compiled_loss.losses, strict=True)
                if loss is not None
            ]

    def _update_metrics(self, loss: mg.Tensor, per_output: list, ys, outputs, n: int) -> None:
        if self._compiled_metrics is None:
            self._build_metrics(ys, outputs)
        self._loss_tracker.update_state(float(loss), sample_weight=n)
        values = [v for v in per_output if v is not None] if self._output_loss_trackers else []
        for tracker, value in zip(self._output_loss_trackers, values, strict=True):
            tracker.update_state(float(value), sample_weight=n)
        for i, metric in self._compiled_metrics:
            metric.update_state(ys[i], outputs[i])

    def _reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def _results(self) -> dict[str, float]:
        return {metric.name: metric.result() for metric in self.metrics}

    def _train_step(self, x_batch, ys: list[np.ndarray], sample_weight=None) -> dict[str, float]:
        """One optimisation step on one batch; returns the epoch's running results."""
        with mg.GradientTape() as tape:
            outputs = self(x_batch, training=True)
            outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
            loss, per_output = self._compute_loss(ys, outputs, sample_weight)
        weights = self.trainable_weights
        grads = tape.gradient(loss, weights)
        self.optimizer.apply_gradients(zip(grads, weights, strict=True))
        if hasattr(self, "_apply_constraints"):  # a Layer: constrained weights projected back
            self._apply_constraints()
        self._update_metrics(loss, per_output, ys, outputs, len(ys[0]))
        return self._results()

    def _test_step(self, x_batch, ys: list[np.ndarray], sample_weight=None) -> dict[str, float]:
        """Loss and metrics on one batch, in inference mode (no tape, no update)."""
        outputs = self(x_batch, training=False)
        outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
        loss, per_output = self._compute_loss(ys, outputs, sample_weight)
        self._update_metrics(loss, per_output, ys, outputs, len(ys[0]))
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

    def _train_epoch(
        self, epoch, data, batch_size, shuffle, callback_list, steps=None
    ) -> dict[str, float]:
        """One pass of ``_train_step`` over ``data`` (``steps`` batches at most, until
        ``stop_training``); the epoch's training logs."""
        self._reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for step, (x_batch, y_batch, weights) in enumerate(data.batches(batch_size, shuffle)):
            callback_list.on_train_batch_begin(step)
            callback_list.on_train_batch_end(step, self._train_step(x_batch, y_batch, weights))
            if self.stop_training or (steps is not None and step + 1 >= steps):
                break
        return self._results()

    def _test_epoch(self, data, batch_size, callback_list) -> dict[str, float]:
        """One pass of ``_test_step`` over ``data`` (``evaluate``, and validation in ``fit``);
        the loss and metrics over all of it."""
        self._reset_metrics()
        callback_list.on_test_begin()
        for step, (x_batch, y_batch, weights) in enumerate(data.batches(batch_size)):
            callback_list.on_test_batch_begin(step)
            callback_list.on_test_batch_end(step, self._test_step(x_batch, y_batch, weights))
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
        verbose: int | str = 1,
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        class_weight=None,
        sample_weight=None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
    ) -> callbacks_module.History:
        """Train for epochs ``initial_epoch .. epochs - 1`` over ``(x, y)``; returns a
        ``History``. The arguments are Keras's, in its order:

        ``x``: an array, a list of arrays (several inputs) or a dict keyed by input name; or an
        iterable of ``(x, y)`` / ``(x, y, sample_weight)`` batches (a generator), then without
        ``y``. ``y`` likewise (several outputs; a dict keyed by output name). ``batch_size``
        (``None``: 32) samples per step; the last batch may be smaller. ``verbose``: 0 silent, 1
        a progress bar per epoch, 2 one line per epoch (``"auto"``: 1). ``validation_split``
        holds out the *last* fraction of the samples, before any shuffling;
        ``validation_data=(x_val, y_val[, sample_weight_val])`` gives them explicitly.
        ``shuffle`` reorders the samples each epoch (with ``mg.random.generator()``, so
        ``mg.random.seed`` makes it repeatable). ``class_weight`` ``{class: weight}`` and
        ``sample_weight`` (one weight per sample) weight the loss. ``steps_per_epoch`` caps the
        batches of an epoch (required for an endless generator). A loss that turns NaN or
        infinite is warned about once (``RuntimeWarning``); ``callbacks=[mgl.callbacks.
        TerminateOnNaN()]`` stops there.
        """
        self._assert_compiled("fit")
        epochs, verbose = _check_epochs(epochs), _check_verbose(verbose)
        initial_epoch = _check_initial_epoch(initial_epoch, epochs)
        steps_per_epoch = _check_steps(steps_per_epoch, "steps_per_epoch")
        batch_size = data_module.check_batch_size(batch_size)
        train, validation = self._fit_data(
            x, y, validation_data, validation_split, sample_weight, class_weight, steps_per_epoch
        )
        if isinstance(train, data_module.ArrayData):
            self._check_stateful(train.num_samples, batch_size, "training data")
        if isinstance(validation, data_module.ArrayData):
            self._check_stateful(validation.num_samples, batch_size, "validation data")
        steps = steps_per_epoch or train.num_batches(batch_size)
        callback_list = self._callback_list(callbacks, verbose, steps, epochs, fit=True)
        self.stop_training = False
        logs: dict[str, float] = {}
        callback_list.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            logs = self._train_epoch(
                epoch, train, batch_size, shuffle, callback_list, steps_per_epoch
            )
            if validation is not None:
                val_logs = self._test_epoch(validation, batch_size, callback_list)
                logs.update({f"val_{key}": value for key, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        self.history = callback_list.history
        return self.history

    def _fit_data(self, x, y, validation_data, split, sample_weight, class_weight, steps):
        """``(training, validation)`` data for ``fit``, with the weights of ``class_weight``."""
        if data_module.is_batch_stream(x):
            if y is not None or class_weight is not None or sample_weight is not None:
                raise ValueError(
                    "fit on an iterable of batches takes the targets (and sample weights) from "
                    "the batches: do not pass y, sample_weight or class_weight"
                )
            validation = None
            if validation_data is not None:
                validation = (
                    data_module.BatchStream(validation_data, what="validation_data")
                    if data_module.is_batch_stream(validation_data)
                    else data_module.ArrayData(
                        *self._structured_pair(*validation_data), what="validation "
                    )
                )
            return data_module.BatchStream(x, steps), validation
        x, y = self._structured_pair(x, y)
        sample_weight = _with_class_weight(sample_weight, class_weight, y)
        if validation_data is not None and isinstance(validation_data, list | tuple):
            validation_data = (*self._structured_pair(*validation_data[:2]), *validation_data[2:])
        return data_module.training_and_validation(x, y, validation_data, split, sample_weight)

    def _structured_pair(self, x, y=None):
        """``x`` and ``y`` with dicts keyed by input / output name turned into lists."""
        inputs = [t.name for t in getattr(self, "inputs", None) or []]
        return _by_name(x, inputs, "x", "input"), _by_name(y, self._named_outputs(), "y", "output")

    def _named_outputs(self) -> list[str]:
        return list(getattr(self, "output_names", None) or [])

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size: int | None = 32,
        verbose: int | str = 0,
        sample_weight=None,
        steps: int | None = None,
        callbacks=None,
        return_dict: bool = False,
    ):
        """The loss on ``(x, y)`` (mean over samples), or ``[loss, *metrics]`` when metrics were
        compiled (in the order of :attr:`metrics_names`; a dict with ``return_dict``).
        ``x``/``y`` as in :meth:`fit` (also an iterable of batches, ``steps`` of them at
        most). ``verbose``: 0 silent, 1 a progress bar, 2 one line with the results."""
        self._assert_compiled("evaluate")
        verbose = _check_verbose(verbose)
        batch_size = data_module.check_batch_size(batch_size)
        steps = _check_steps(steps, "steps")
        if data_module.is_batch_stream(x):
            data = data_module.BatchStream(x, steps)
        else:
            data = data_module.ArrayData(*self._structured_pair(x, y), sample_weight)
            self._check_stateful(data.num_samples, batch_size, "data")
        callback_list = self._callback_list(
            callbacks, verbose, steps or data.num_batches(batch_size)
        )
        logs = self._test_epoch(data, batch_size, callback_list)
        return _results_as(logs, return_dict)

    # -- one batch at a time -------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimisation step on one batch; the loss (and metrics) of that batch."""
        self._assert_compiled("train_on_batch")
        x, y = self._structured_pair(x, y)
        data = data_module.ArrayData(x, y, _with_class_weight(sample_weight, class_weight, y))
        self._reset_metrics()
        inputs, ys, weights = data._batch(slice(None))
        return _results_as(self._train_step(inputs, ys, weights), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) of one batch, in inference mode."""
        self._assert_compiled("test_on_batch")
        data = data_module.ArrayData(*self._structured_pair(x, y), sample_weight)
        self._reset_metrics()
        inputs, ys, weights = data._batch(slice(None))
        return _results_as(self._test_step(inputs, ys, weights), return_dict)

    def predict_on_batch(self, x):
        """The outputs on one batch as numpy, in inference mode."""
        data = data_module.ArrayData(self._structured_pair(x)[0], targets=False)
        return self._predict_step(data._batch(slice(None))[0])

    def predict(self, x=None, batch_size: int | None = 32, verbose: int | str = 0, callbacks=None):
        """The model's outputs on ``x`` as numpy, in inference mode, concatenated over batches
        (a list of arrays for a model with several outputs). ``x`` may be arrays or an iterable
        of batches (``x`` or ``(x, y)``: the targets are ignored). ``verbose``: 1 a progress bar."""
        verbose = _check_verbose(verbose)
        batch_size = data_module.check_batch_size(batch_size)
        if data_module.is_batch_stream(x):
            inputs, num_batches = (
                data_module.stream_inputs(x),
                len(x) if hasattr(x, "__len__") else None,
            )
        else:
            data = data_module.ArrayData(self._structured_pair(x)[0], targets=False)
            self._check_stateful(data.num_samples, batch_size, "data")
            inputs = (x_batch for x_batch, _, _ in data.batches(batch_size))
            num_batches = data.num_batches(batch_size)
        callback_list = self._callback_list(callbacks, verbose, num_batches)
        callback_list.on_predict_begin()
        batches = []
        for step, x_batch in enumerate(inputs):
            callback_list.on_predict_batch_begin(step)
            batches.append(self._predict_step(x_batch))
            callback_list.on_predict_batch_end(step, {"outputs": batches[-1]})
        callback_list.on_predict_end()
        if isinstance(batches[0], list):
            return [np.concatenate(parts, axis=0) for parts in zip(*batches, strict=True)]
        return np.concatenate(batches, axis=0)


# ---------------------------------------------------------------------------------------------
# argument helpers
# ---------------------------------------------------------------------------------------------


def _check_initial_epoch(initial_epoch, epochs: int) -> int:
    """An int in ``[0, epochs]`` (Keras trains epochs ``initial_epoch .. epochs - 1``)."""
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, numbers.Integral):
        raise TypeError(f"initial_epoch must be an int >= 0, received {initial_epoch!r}")
    if not 0 <= initial_epoch <= epochs:
        raise ValueError(
            f"initial_epoch must be in [0, epochs={epochs}] (training runs epochs "
            f"initial_epoch .. epochs - 1), received {initial_epoch}"
        )
    return int(initial_epoch)


def _check_steps(steps, name: str) -> int | None:
    """None, or an int >= 1."""
    if steps is None:
        return None
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"{name} must be None or an int >= 1, received {steps!r}")
    return int(steps)


def _by_name(data, names: list[str], what: str, kind: str):
    """``data`` as given, or, for a dict keyed by the model's input/output names, the list of
    its values in the model's order."""
    if not isinstance(data, dict):
        return data
    unknown = sorted(set(data) - set(names))
    missing = [name for name in names if name not in data]
    if unknown or missing:
        raise ValueError(
            f"{what} is a dict keyed by {kind} name, but the model's {kind}s are {names}: "
            + ", ".join(
                part
                for part in (
                    f"unknown keys {unknown}" if unknown else "",
                    f"missing {missing}" if missing else "",
                )
                if part
            )
        )
    values = [data[name] for name in names]
    return values[0] if len(values) == 1 else values


def _with_class_weight(sample_weight, class_weight, y):
    """Sample weights times the weight of each sample's class (from its integer label, or the
    argmax of a one-hot target), as Keras's ``class_weight``."""
    if class_weight is None:
        return sample_weight
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict {{class: weight}}, received {class_weight!r}")
    target = np.asarray(y[0] if isinstance(y, list | tuple) else y)
    labels = target.argmax(-1) if target.ndim > 1 and target.shape[-1] > 1 else target
    labels = labels.reshape(len(target), -1)[:, 0].astype(np.int64)
    unknown = sorted(set(np.unique(labels).tolist()) - set(class_weight))
    if unknown:
        raise ValueError(
            f"class_weight has no weight for classes {unknown} found in y; it gives "
            f"{sorted(class_weight)}"
        )
    weights = np.array([float(class_weight[label]) for label in labels])
    return weights if sample_weight is None else weights * np.asarray(sample_weight, np.float64)


def _results_as(logs: dict, return_dict: bool):
    """``logs`` as Keras returns them: the dict, or the loss alone, or ``[loss, *metrics]``."""
    if return_dict:
        return dict(logs)
    values = list(logs.values())
    return values[0] if len(values) == 1 else values
