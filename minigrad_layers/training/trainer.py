"""The training loop: ``Trainer``, the mixin that gives a model ``compile``, ``fit``, ``evaluate``
and ``predict`` (Keras semantics).

One training step, the heart of it all::

    with mg.GradientTape() as tape:
        outputs = model(x_batch, training=True)     # forward pass, recorded on the tape
        loss = loss_fn(y_batch, outputs)             # a scalar Tensor (masked steps ignored)
    grads = tape.gradient(loss, model.trainable_weights)   # one reverse sweep
    optimizer.apply_gradients(zip(grads, model.trainable_weights))

``fit`` runs it over shuffled batches for each epoch, keeps running means of the loss and the
metrics (weighted by batch size), evaluates the validation data at the end of each epoch, and
reports to the callbacks and the progress display.

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

import sys
import time

import numpy as np
from tqdm import tqdm

import minigrad as mg
from minigrad_layers.training import callbacks as callbacks_module
from minigrad_layers.training import losses as losses_module
from minigrad_layers.training import metrics as metrics_module
from minigrad_layers.training import optimizers as optimizers_module

__all__ = ["NotCompiledError", "Trainer"]


class NotCompiledError(RuntimeError, ValueError):
    """``fit``/``evaluate`` before ``compile``: a RuntimeError as in tf.keras 2 that is also a
    ValueError as in Keras 3, so code written for either catches it."""


# ---------------------------------------------------------------------------------------------
# data handling: x and y as lists of arrays sharing their first (sample) axis
# ---------------------------------------------------------------------------------------------


def _as_arrays(data, what: str) -> tuple[list[np.ndarray], bool]:
    """``(arrays, single)``: one array, or a list/tuple of arrays (several inputs or outputs)."""
    if data is None:
        raise ValueError(f"{what} is required (a numpy array or a list of arrays)")
    if (
        isinstance(data, list | tuple)
        and data
        and all(isinstance(a, np.ndarray | mg.Tensor) for a in data)
    ):
        arrays, single = [np.asarray(a) for a in data], False
    else:
        arrays, single = [np.asarray(data)], True
    for a in arrays:
        if a.ndim == 0:
            raise ValueError(f"{what} needs a sample axis first, received a scalar")
    return arrays, single


def _num_samples(xs: list[np.ndarray], ys: list[np.ndarray] | None) -> int:
    """The common number of samples; a mismatch names the sizes."""
    x_sizes = [len(a) for a in xs]
    if len(set(x_sizes)) > 1:
        raise ValueError(f"All input arrays must have the same number of samples, got {x_sizes}")
    n = x_sizes[0]
    if ys is not None:
        y_sizes = [len(a) for a in ys]
        if any(size != n for size in y_sizes):
            shown = y_sizes[0] if len(y_sizes) == 1 else y_sizes
            raise ValueError(
                f"x and y have different numbers of samples: x has {n}, y has {shown}; "
                "they must match (one target per input sample)"
            )
    if n == 0:
        raise ValueError("x is empty: it has 0 samples")
    return n


def _batches(n: int, batch_size: int, order: np.ndarray | None):
    """Index objects of consecutive batches (slices, or rows of ``order`` when shuffled); the
    last batch may be smaller."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def _take(arrays: list[np.ndarray], index) -> list[np.ndarray]:
    return [a[index] for a in arrays]


def _format_logs(logs: dict) -> str:
    return " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())


def _check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise TypeError(f"batch_size must be a positive int, received {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, received {batch_size}")
    return int(batch_size)


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
    @staticmethod
    def _model_inputs(xs: list[np.ndarray], single: bool):
        tensors = [mg.tensor(a) for a in xs]
        return tensors[0] if single else tensors

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

    # -- public loops --------------------------------------------------------------------------
    def fit(
        self,
        x=None,
        y=None,
        batch_size: int = 32,
        epochs: int = 1,
        shuffle: bool = True,
        validation_data=None,
        validation_split: float = 0.0,
        verbose: int = 1,
        callbacks=None,
    ) -> callbacks_module.History:
        """Train for ``epochs`` passes over ``(x, y)``; returns a ``History``.

        ``x`` is an array or a list of arrays (several inputs); ``y`` likewise (several outputs).
        ``shuffle`` reorders the samples each epoch (with ``mg.random.generator()``, so
        ``mg.random.seed`` makes it repeatable). ``validation_split`` holds out the *last*
        fraction of the samples, before any shuffling; ``validation_data=(x_val, y_val)`` gives
        them explicitly. ``verbose``: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
        """
        self._assert_compiled("fit")
        verbose = 1 if verbose == "auto" else verbose
        batch_size = _check_batch_size(batch_size)
        xs, x_single = _as_arrays(x, "x")
        ys, _ = _as_arrays(y, "y")
        n = _num_samples(xs, ys)
        validation = None
        if validation_data is not None:
            if not isinstance(validation_data, list | tuple) or len(validation_data) != 2:
                raise ValueError(
                    "validation_data must be a tuple (x_val, y_val), received "
                    f"{type(validation_data).__name__}"
                )
            val_xs, val_single = _as_arrays(validation_data[0], "validation x")
            val_ys, _ = _as_arrays(validation_data[1], "validation y")
            validation = (val_xs, val_single, val_ys, _num_samples(val_xs, val_ys))
        elif validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"validation_split must be in [0, 1), received {validation_split}")
            split_at = int(n * (1.0 - validation_split))
            if split_at in (0, n):
                raise ValueError(
                    f"validation_split={validation_split} of {n} samples leaves "
                    f"{split_at} for training and {n - split_at} for validation; both must be "
                    "non-empty"
                )
            held_out = slice(split_at, n)
            validation = (_take(xs, held_out), x_single, _take(ys, held_out), n - split_at)
            xs, ys, n = _take(xs, slice(0, split_at)), _take(ys, slice(0, split_at)), split_at
        self._check_stateful(n, batch_size, "training data")
        if validation is not None:
            self._check_stateful(validation[3], batch_size, "validation data")

        steps = -(-n // batch_size)
        history = callbacks_module.History()
        callback_list = callbacks_module.CallbackList(
            [*(callbacks or []), history],
            model=self,
            params={"epochs": epochs, "steps": steps, "verbose": verbose},
        )
        self.stop_training = False
        epoch_logs: dict[str, float] = {}
        callback_list.on_train_begin()
        for epoch in range(epochs):
            self._reset_metrics()
            callback_list.on_epoch_begin(epoch)
            started = time.perf_counter()
            order = mg.random.generator().permutation(n) if shuffle else None
            bar = None
            if verbose == 1:
                bar = tqdm(
                    total=steps, desc=f"Epoch {epoch + 1}/{epochs}", unit="step", file=sys.stdout
                )
            for step, index in enumerate(_batches(n, batch_size, order)):
                callback_list.on_train_batch_begin(step)
                logs = self._train_step(
                    self._model_inputs(_take(xs, index), x_single), _take(ys, index)
                )
                callback_list.on_train_batch_end(step, logs)
                if bar is not None:
                    bar.set_postfix_str(_format_logs(logs), refresh=False)
                    bar.update()
                if self.stop_training:
                    break
            epoch_logs = self._results()
            if validation is not None:
                val_logs = self._run_evaluation(*validation[:3], batch_size)
                epoch_logs.update({f"val_{key}": value for key, value in val_logs.items()})
            if bar is not None:
                bar.set_postfix_str(_format_logs(epoch_logs))
                bar.close()
            elif verbose == 2:
                seconds = time.perf_counter() - started
                print(f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s - {_format_logs(epoch_logs)}")
            callback_list.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callback_list.on_train_end(epoch_logs)
        self.history = history
        return history

    def _run_evaluation(self, xs, x_single, ys, batch_size, verbose=0) -> dict[str, float]:
        self._reset_metrics()
        n = len(xs[0])
        bar = (
            tqdm(total=-(-n // batch_size), unit="step", file=sys.stdout) if verbose == 1 else None
        )
        logs: dict[str, float] = {}
        for index in _batches(n, batch_size, None):
            logs = self._test_step(self._model_inputs(_take(xs, index), x_single), _take(ys, index))
            if bar is not None:
                bar.set_postfix_str(_format_logs(logs), refresh=False)
                bar.update()
        if bar is not None:
            bar.close()
        return logs

    def evaluate(self, x=None, y=None, batch_size: int = 32, verbose: int = 0):
        """The loss on ``(x, y)`` (mean over samples), or ``[loss, *metrics]`` when metrics were
        compiled (in the order of :attr:`metrics_names`)."""
        self._assert_compiled("evaluate")
        batch_size = _check_batch_size(batch_size)
        xs, x_single = _as_arrays(x, "x")
        ys, _ = _as_arrays(y, "y")
        n = _num_samples(xs, ys)
        self._check_stateful(n, batch_size, "data")
        logs = self._run_evaluation(xs, x_single, ys, batch_size, verbose)
        if verbose == 2:
            print(_format_logs(logs))
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x=None, batch_size: int = 32, verbose: int = 0):
        """The model's outputs on ``x`` as numpy, in inference mode, concatenated over batches
        (a list of arrays for a model with several outputs)."""
        batch_size = _check_batch_size(batch_size)
        xs, x_single = _as_arrays(x, "x")
        n = _num_samples(xs, None)
        self._check_stateful(n, batch_size, "data")
        steps = -(-n // batch_size)
        bar = tqdm(total=steps, unit="step", file=sys.stdout) if verbose == 1 else None
        batches = []
        for index in _batches(n, batch_size, None):
            outputs = self(self._model_inputs(_take(xs, index), x_single), training=False)
            if isinstance(outputs, list | tuple):
                batches.append([np.asarray(o) for o in outputs])
            else:
                batches.append(np.asarray(outputs))
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.close()
        if isinstance(batches[0], list):
            return [np.concatenate(parts, axis=0) for parts in zip(*batches, strict=True)]
        return np.concatenate(batches, axis=0)
