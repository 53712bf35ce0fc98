"""Optimizers: ``SGD``, ``Adam`` and ``RMSprop`` with Keras 3's update formulas, keyword names and
defaults.

One call of ``apply_gradients(zip(grads, variables))`` is one training step:

1. pairs whose gradient is ``None`` are dropped (a warning names their variables);
2. the gradients are clipped, by at most one of: ``clipnorm`` (each gradient to that L2 norm),
   ``global_clipnorm`` (all gradients together to that L2 norm), ``clipvalue`` (elementwise);
3. each variable is updated by the optimizer's rule (``_update``), reading and writing its
   *slots*: per-variable state such as Adam's moments, created as zeros the first time the variable
   is seen;
4. ``iterations`` (the number of steps taken) goes up by one.

The constructors check every hyperparameter: ``learning_rate`` finite and >= 0, ``epsilon`` > 0,
``momentum``, ``beta_1``, ``beta_2`` and ``rho`` in [0, 1), the clipping thresholds finite and
>= 0 (0: no clipping); a bad one is a ValueError naming it, the value and the interval.

The rules run on plain numpy arrays in the variable's dtype (float32 stays float32) and write the
result back with ``Variable.assign``: no tape is involved.

>>> import minigrad as mg
>>> import minigrad_layers as mgl
>>> w = mg.Variable([1.0, -2.0])
>>> opt = mgl.optimizers.SGD(learning_rate=0.1)
>>> with mg.GradientTape() as tape:
...     loss = mg.sum(w * w)  # dloss/dw = 2w
>>> opt.apply_gradients(zip([tape.gradient(loss, w)], [w]))
1
>>> w.numpy()
array([ 0.8, -1.6], dtype=float32)
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings

import numpy as np

import minigrad as mg

__all__ = ["SGD", "Adam", "Optimizer", "RMSprop", "get"]


def _hyperparameter(name: str, value, low: float, high: float, *, low_open: bool) -> float:
    """``value`` as a float after checking that it is a finite real number in the interval from
    ``low`` to ``high`` (``high`` excluded; ``low`` excluded when ``low_open``)."""
    interval = f"{'(' if low_open else '['}{low:g}, {high:g})"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"`{name}` must be a real number in {interval}, received {value!r} of type "
            f"{type(value).__name__}"
        )
    value = float(value)
    below = value <= low if low_open else value < low
    if not math.isfinite(value) or below or value >= high:
        raise ValueError(f"`{name}` must be a real number in {interval}, received {value!r}")
    return value


def _rate(name: str, value) -> float:
    """A decay rate or momentum: in [0, 1)."""
    return _hyperparameter(name, value, 0.0, 1.0, low_open=False)


def _positive(name: str, value) -> float:
    """A fuzz factor: finite and > 0."""
    return _hyperparameter(name, value, 0.0, math.inf, low_open=True)


class Optimizer:
    """Base class: gradient filtering, clipping, lazily created slots and the step counter.

    A subclass defines ``_slot_names`` (which zero-initialised arrays each variable needs) and
    ``_update(variable, gradient, slots)``, which updates the slots in place and assigns the
    variable's new value.
    """

    _ACCEPTED = ("learning_rate", "clipnorm", "clipvalue", "global_clipnorm", "name")

    def __init__(
        self,
        learning_rate: float,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs,
    ):
        if kwargs:
            accepted = sorted(set(self._ACCEPTED + self._own_arguments()))
            raise TypeError(
                f"{type(self).__name__} received unknown keyword argument(s) {sorted(kwargs)}; "
                f"accepted: {accepted}"
            )
        # 0 is allowed (as in Keras): a model can run the training step without moving
        self.learning_rate = _hyperparameter(
            "learning_rate", learning_rate, 0.0, math.inf, low_open=False
        )
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = [key for key, value in clips.items() if value is not None]
        if len(given) > 1:
            raise ValueError(
                f"Only one of clipnorm, clipvalue and global_clipnorm can be set; received {given}"
            )
        for key in given:  # 0 means no clipping, as in Keras
            clips[key] = _hyperparameter(key, clips[key], 0.0, math.inf, low_open=False)
        self.clipnorm = clips["clipnorm"]
        self.clipvalue = clips["clipvalue"]
        self.global_clipnorm = clips["global_clipnorm"]
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._slots: dict[int, tuple[mg.Variable, dict[str, np.ndarray]]] = {}

    @classmethod
    def _own_arguments(cls) -> tuple:
        """The subclass's own keyword names (for the unknown-argument message)."""
        parameters = inspect.signature(cls.__init__).parameters
        return tuple(n for n, p in parameters.items() if p.kind == p.POSITIONAL_OR_KEYWORD)[1:]

    # -- the step ------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars) -> int:
        """Apply one step for ``(gradient, variable)`` pairs; returns the new ``iterations``.

        ``None`` gradients are skipped; if every gradient is ``None`` a ``ValueError`` is raised
        (the loss does not depend on any of the variables).
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self.iterations
        kept = [(g, v) for g, v in pairs if g is not None]
        if not kept:
            names = [getattr(v, "name", "?") for _, v in pairs]
            raise ValueError(
                f"No gradients provided for any variable ({names}): the loss does not depend "
                "on them. Check that the loss is computed from the model's output."
            )
        if len(kept) < len(pairs):
            missing = [getattr(v, "name", "?") for g, v in pairs if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss",
                stacklevel=2,
            )
        variables = [v for _, v in kept]
        grads = []
        for g, v in kept:
            if not isinstance(v, mg.Variable):
                raise TypeError(
                    f"apply_gradients updates mg.Variable objects, received {type(v).__name__}"
                )
            g = np.asarray(g.numpy() if isinstance(g, mg.Tensor) else g, dtype=v.dtype)
            if g.shape != v.shape:
                raise ValueError(
                    f"Gradient of shape {g.shape} does not match variable {v.name!r} "
                    f"of shape {v.shape}"
                )
            grads.append(g)
        for g, v in zip(self._clip(grads), variables, strict=True):
            self._update(v, g, self._slots_for(v))
        self.iterations += 1
        return self.iterations

    def _slots_for(self, variable: mg.Variable) -> dict[str, np.ndarray]:
        entry = self._slots.get(id(variable))
        if entry is None:  # first time this variable is seen: zero slots of its shape and dtype
            slots = {name: np.zeros(variable.shape, variable.dtype) for name in self._slot_names()}
            entry = self._slots[id(variable)] = (variable, slots)  # keeps the variable (its id)
        return entry[1]

    def _slot_names(self) -> list[str]:
        return []

    def _update(self, variable: mg.Variable, g: np.ndarray, slots: dict) -> None:
        raise NotImplementedError

    # -- config (Keras 3: the constructor arguments) -------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments, the current learning rate included."""
        names = ("name", "learning_rate", "clipnorm", "clipvalue", "global_clipnorm")
        names += tuple(n for n in self._own_arguments() if n not in names)
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_config(cls, config: dict):
        """A new optimizer (no state) from :meth:`get_config`."""
        return cls(**config)

    # -- state for saving (Keras 3's order of optimizer variables) -----------------------------
    def _slot_groups(self) -> list[tuple[str, ...]]:
        """Slots created together, interleaved per variable in the saved order (Keras 3)."""
        return [(name,) for name in self._slot_names()]

    def state_arrays(self, variables) -> list[np.ndarray]:
        """``[iteration, learning_rate, slots...]``: for each slot group, for each of
        ``variables`` (the model's trainable weights), the group's slots. The learning rate is
        kept in float64 so that a reloaded optimizer steps exactly as before."""
        arrays = [np.array(self.iterations, np.int64), np.array(self.learning_rate, np.float64)]
        for group in self._slot_groups():
            for variable in variables:
                slots = self._slots_for(variable)
                arrays += [slots[name].copy() for name in group]
        return arrays

    def load_state_arrays(self, variables, arrays) -> None:
        """Restore :meth:`state_arrays`'s output; a count that does not fit ``variables`` is
        skipped with a warning, as Keras 3 does."""
        expected = 2 + len(self._slot_names()) * len(variables)
        if len(arrays) != expected:
            warnings.warn(
                f"Skipping the state of optimizer {self.name!r}: it needs {expected} variables "
                f"for {len(variables)} trainable weights, the file holds {len(arrays)}",
                stacklevel=2,
            )
            return
        self.iterations = int(arrays[0])
        self.learning_rate = float(arrays[1])
        values = iter(arrays[2:])
        for group in self._slot_groups():
            for variable in variables:
                slots = self._slots_for(variable)
                for name in group:
                    slots[name][...] = next(values)

    # -- clipping (Keras 3: at most one of the three) ------------------------------------------
    def _clip(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.clipnorm and self.clipnorm > 0:
            # each gradient separately: g * c / max(||g||, c)
            c = self.clipnorm
            return [g * c / max(np.sqrt(np.sum(np.square(g))), c) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            # all together: g * c / max(||(g_1, ..., g_n)||, c); a non-finite norm gives NaN
            c = self.global_clipnorm
            norm = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads))
            scale = c / max(norm, c) if math.isfinite(norm) else math.nan
            return [g * scale for g in grads]
        if self.clipvalue and self.clipvalue > 0:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"<{name} learning_rate={self.learning_rate} iterations={self.iterations}>"


class SGD(Optimizer):
    """Gradient descent, optionally with (Nesterov) momentum (Keras 3 rule).

    ``momentum == 0``: ``w -= lr * g``. Otherwise, with a velocity ``m`` starting at zero::

        m = momentum * m - lr * g
        w = w + m                          # nesterov=False
        w = w + momentum * m - lr * g      # nesterov=True

    >>> opt = SGD(learning_rate=0.1, momentum=0.9)
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        self.momentum = _rate("momentum", momentum)
        self.nesterov = bool(nesterov)

    def _slot_names(self):
        return ["momentum"] if self.momentum != 0 else []

    def _update(self, variable, g, slots):
        lr = self.learning_rate
        w = variable.numpy()
        if self.momentum == 0:
            variable.assign(w - g * lr)
            return
        m = slots["momentum"]
        m *= self.momentum  # m = momentum * m - lr * g, in place
        m -= g * lr
        if self.nesterov:
            variable.assign(w + (m * self.momentum - g * lr))
        else:
            variable.assign(w + m)


class Adam(Optimizer):
    """Adam (Keras 3 rule, bias correction folded into the step size).

    With ``t = iterations + 1`` and moments ``m``, ``v`` starting at zero::

        lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        v_hat = max(v_hat, v)              # amsgrad only; then v_hat replaces v below
        w -= lr_t * m / (sqrt(v) + epsilon)

    >>> opt = Adam(learning_rate=1e-3)
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        self.beta_1 = _rate("beta_1", beta_1)
        self.beta_2 = _rate("beta_2", beta_2)
        self.epsilon = _positive("epsilon", epsilon)
        self.amsgrad = bool(amsgrad)

    def _slot_names(self):
        return ["m", "v", "v_hat"] if self.amsgrad else ["m", "v"]

    def _slot_groups(self):
        return [("m", "v"), ("v_hat",)] if self.amsgrad else [("m", "v")]

    def _update(self, variable, g, slots):
        t = self.iterations + 1
        lr_t = self.learning_rate * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        m, v = slots["m"], slots["v"]
        m += (g - m) * (1 - self.beta_1)
        v += (np.square(g) - v) * (1 - self.beta_2)
        if self.amsgrad:
            v = np.maximum(slots["v_hat"], v, out=slots["v_hat"])
        variable.assign(variable.numpy() - m * lr_t / (np.sqrt(v) + self.epsilon))


class RMSprop(Optimizer):
    """RMSprop (Keras 3 rule; plain momentum, optional centering).

    With ``v`` (and ``a``, ``mom``) starting at zero::

        v = rho * v + (1 - rho) * g**2
        a = rho * a + (1 - rho) * g                 # centered only
        denominator = v - a**2 + epsilon            # centered, else v + epsilon
        increment = lr * g / sqrt(denominator)
        mom = momentum * mom + increment; w -= mom  # momentum > 0, else w -= increment

    >>> opt = RMSprop(learning_rate=0.1)
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, name, **kwargs)
        self.rho = _rate("rho", rho)
        self.momentum = _rate("momentum", momentum)
        self.epsilon = _positive("epsilon", epsilon)
        self.centered = bool(centered)

    def _slot_names(self):
        names = ["velocity"]
        if self.momentum > 0:
            names.append("momentum")
        if self.centered:
            names.append("average_gradient")
        return names

    def _update(self, variable, g, slots):
        rho = self.rho
        velocity = slots["velocity"]
        velocity *= rho
        velocity += np.square(g) * (1 - rho)
        if self.centered:
            average = slots["average_gradient"]
            average *= rho
            average += g * (1 - rho)
            denominator = velocity - np.square(average) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = g * self.learning_rate / np.sqrt(denominator)
        if self.momentum > 0:
            mom = slots["momentum"]
            mom *= self.momentum
            mom += increment
            increment = mom
        variable.assign(variable.numpy() - increment)


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get(identifier) -> Optimizer:
    """An optimizer from its Keras name (``"sgd"``, ``"adam"``, ``"rmsprop"``, any case; default
    settings) or an ``Optimizer`` instance (returned as is).

    >>> get("adam").learning_rate
    0.001
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(
        f"Unknown optimizer {identifier!r}: expected one of {sorted(_BY_NAME)} or an "
        "optimizer instance such as mgl.optimizers.Adam(learning_rate=1e-3)"
    )
