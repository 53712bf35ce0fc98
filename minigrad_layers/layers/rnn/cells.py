"""The built-in recurrent cells: SimpleRNNCell, LSTMCell and GRUCell, with Keras weight layouts.

A cell computes one time step; the RNN layer runs it over the sequence (see ``RNN`` for the
protocol). Every cell follows the same plan, chosen so that a step records few ops on the tape:

* one matmul for ``x_t @ kernel`` and one for ``h @ recurrent_kernel``, covering all the gates
  at once (the gates are column blocks of one kernel, in the Keras gate order);
* one bias add, one reshape + unstack that splits the gate blocks apart (its gradient is a single
  stack), then the elementwise update.

Weights are read through the attributes (``self.kernel``, ...) on every call, never through a
cached reference: the RNN's per-step weight reads (for BPTT inspection) rebind those attributes.

Dropout (``dropout`` on the step input, ``recurrent_dropout`` on the carried ``h``) uses masks drawn
once per RNN call and reused at every step (:class:`DropoutRNNCellMixin`). LSTM and GRU then use one
mask per gate, as Keras does with ``implementation=1`` (which ``recurrent_dropout`` forces there):
each gate reads its own masked copy of ``x_t`` and ``h``, so the fused matmuls become one per gate.
LSTM and GRU accept Keras' ``implementation`` (1 or 2) and keep it in their config; in Keras it
picks how the matmuls are batched, here both values compute the same numbers in the same way.

>>> import minigrad as mg
>>> import minigrad_layers as mgl
>>> cell = mgl.LSTMCell(4)
>>> x = mg.ones((2, 3))
>>> cell.build(x.shape)
>>> h, [h_, c] = cell.call(x, cell.get_initial_state(batch_size=2, dtype=x.dtype))
>>> h.shape, c.shape, [w.shape for w in cell.weights]
((2, 4), (2, 4), [(3, 16), (4, 16), (16,)])
"""

from __future__ import annotations

import warnings

import numpy as np

import minigrad as mg
from minigrad.dtypes import as_dtype
from minigrad_layers import activations, constraints, initializers, regularizers
from minigrad_layers.engine.layer import Layer

__all__ = ["DropoutRNNCellMixin", "GRUCell", "LSTMCell", "SimpleRNNCell"]


def _check_units(units) -> int:
    if isinstance(units, bool) or not isinstance(units, int | np.integer) or units <= 0:
        raise ValueError(
            f"Received an invalid value for argument `units`, expected a positive integer, "
            f"got {units!r}."
        )
    return int(units)


def _check_rate(name: str, rate) -> float:
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(
            f"`{name}` is the fraction of units to drop: expected a float in [0, 1), got {rate}."
        )
    return rate


def _previous_states(states) -> list:
    """The cell's states as a list (a bare Tensor is accepted for a one-state cell)."""
    return list(states) if isinstance(states, list | tuple) else [states]


def _zeros_state(cell, inputs, batch_size, dtype, count: int):
    """``count`` zero states ``(batch, units)``: the body of ``get_initial_state``."""
    if inputs is not None:
        batch_size = inputs.shape[0]
        dtype = inputs.dtype if dtype is None else dtype
    if batch_size is None:
        raise ValueError(
            "batch_size and dtype cannot be None while constructing initial state: "
            f"batch_size={batch_size}, dtype={dtype}"
        )
    dtype = cell.dtype if dtype is None else dtype
    zeros = [mg.zeros((batch_size, cell.units), dtype=dtype) for _ in range(count)]
    return zeros[0] if count == 1 else zeros


class DropoutRNNCellMixin:
    """Dropout masks that are sampled once per RNN call and reused at every step (tf.keras 2).

    The RNN calls :meth:`reset_dropout_mask` and :meth:`reset_recurrent_dropout_mask` when a call
    starts; the first step then draws fresh masks (inverted dropout: kept entries are
    ``1 / (1 - rate)``, dropped ones 0) from ``mg.random.generator()``, and the later steps of the
    call reuse them. Masks are constants, never recorded on a tape.

    The class using the mixin sets ``self.dropout`` and ``self.recurrent_dropout`` and calls
    :meth:`_init_dropout_masks` in its ``__init__``. Its ``call`` then multiplies, the tf.keras way:

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> from minigrad_layers.layers.rnn.cells import DropoutRNNCellMixin
    >>> class Cell(DropoutRNNCellMixin, mgl.Layer):
    ...     state_size = 3
    ...     def __init__(self, dropout=0.0, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.dropout, self.recurrent_dropout = dropout, 0.0
    ...         self._init_dropout_masks()
    ...     def call(self, inputs, states, training=None):
    ...         mask = self.get_dropout_mask_for_cell(inputs, training)  # (B, D)
    ...         h = states[0] + mg.sum(inputs * mask, axis=1, keepdims=True)
    ...         return h, [h]
    >>> mgl.RNN(Cell(dropout=0.5))(mg.ones((2, 4, 5))).numpy().tolist()
    [[20.0, 20.0, 20.0], [20.0, 20.0, 20.0]]
    """

    def _init_dropout_masks(self) -> None:
        self._dropout_masks = None
        self._recurrent_dropout_masks = None

    def reset_dropout_mask(self) -> None:
        """Forget the input masks: the next step draws new ones."""
        self._dropout_masks = None

    def reset_recurrent_dropout_mask(self) -> None:
        """Forget the recurrent masks: the next step draws new ones."""
        self._recurrent_dropout_masks = None

    def get_dropout_mask_for_cell(self, inputs, training, count: int = 1):
        """The input mask(s), as tf.keras 2 returns them: None when ``dropout == 0``; else one
        Tensor shaped like ``inputs`` when ``count == 1``, a list of ``count`` otherwise, all ones
        unless ``training`` is truthy."""
        masks = self._dropout_mask_list(inputs, training, count)
        return _keras_shaped(masks, self.dropout, inputs, count)

    def get_recurrent_dropout_mask_for_cell(self, h, training, count: int = 1):
        """The recurrent mask(s) for the state ``h``, shaped as in
        :meth:`get_dropout_mask_for_cell` (None when ``recurrent_dropout == 0``)."""
        masks = self._recurrent_dropout_mask_list(h, training, count)
        return _keras_shaped(masks, self.recurrent_dropout, h, count)

    def _dropout_mask_list(self, inputs, training, count: int = 1) -> list | None:
        """``count`` masks shaped like ``inputs`` (one per gate), or None when no dropout is in
        effect (not training, or ``dropout == 0``): what the built-in cells multiply by."""
        if not training or self.dropout == 0.0:
            return None
        masks = self._dropout_masks
        if masks is None or len(masks) != count or masks[0].shape != inputs.shape:
            masks = self._dropout_masks = _draw_masks(self.dropout, inputs, count)
        return masks

    def _recurrent_dropout_mask_list(self, h, training, count: int = 1) -> list | None:
        """``count`` masks shaped like the state ``h`` (one per gate), or None when no recurrent
        dropout is in effect."""
        if not training or self.recurrent_dropout == 0.0:
            return None
        masks = self._recurrent_dropout_masks
        if masks is None or len(masks) != count or masks[0].shape != h.shape:
            masks = self._recurrent_dropout_masks = _draw_masks(self.recurrent_dropout, h, count)
        return masks


def _draw_masks(rate: float, like, count: int) -> list:
    generator = mg.random.generator()
    keep_scale = 1.0 / (1.0 - rate)
    return [
        mg.tensor(((generator.random(like.shape) >= rate) * keep_scale).astype(like.dtype))
        for _ in range(count)
    ]


def _keras_shaped(masks: list | None, rate: float, like, count: int):
    """tf.keras 2's form of a mask list: None only for a zero rate, ones when not training, a
    bare Tensor for ``count == 1``."""
    if rate == 0.0:
        return None
    if masks is None:
        masks = [mg.ones(like.shape, dtype=like.dtype) for _ in range(count)]
    return masks[0] if count == 1 else list(masks)


class _RecurrentCell(DropoutRNNCellMixin, Layer):
    """What the three built-in cells share: arguments, validation, weights and config."""

    _GATES = 1  # column blocks of the kernels

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = _check_units(units)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self._initializer_args = {  # for get_config: names stay names
            "kernel_initializer": kernel_initializer,
            "recurrent_initializer": recurrent_initializer,
            "bias_initializer": bias_initializer,
        }
        self._init_dropout_masks()

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def _build_kernels(self, input_shape, bias_shape, bias_initializer) -> None:
        shape = tuple(input_shape)
        if len(shape) != 2 or shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} computes on steps of shape (batch, "
                f"features) with the features known, so its RNN's input must be (batch, time, "
                f"features); received steps of shape {shape}"
            )
        input_dim = int(shape[-1])
        width = self._GATES * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, width),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, width),
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=bias_shape,
                initializer=bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.built = True

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """Zeros ``(batch, units)``; ``batch_size`` and ``dtype`` come from ``inputs`` if given."""
        return _zeros_state(self, inputs, batch_size, dtype, count=1)

    def get_config(self) -> dict:
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **self._initializer_args,
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "kernel_regularizer": self.kernel_regularizer,
            "recurrent_regularizer": self.recurrent_regularizer,
            "bias_regularizer": self.bias_regularizer,
            "kernel_constraint": self.kernel_constraint,
            "recurrent_constraint": self.recurrent_constraint,
            "bias_constraint": self.bias_constraint,
        }
        return {**super().get_config(), **config}


class SimpleRNNCell(_RecurrentCell):
    """The Elman cell: ``h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)``.

    Weights: ``kernel (input_dim, units)``, ``recurrent_kernel (units, units)``, ``bias (units,)``.
    One state ``h`` (``state_size = units``); the output is ``h_t``.

    Args: ``units`` (positive int), ``activation="tanh"``, ``use_bias=True``,
    ``kernel_initializer="glorot_uniform"``, ``recurrent_initializer="orthogonal"``,
    ``bias_initializer="zeros"``, ``dropout=0.0`` (on ``x_t``), ``recurrent_dropout=0.0`` (on
    ``h_{t-1}``), and the Layer arguments (``name``, ``dtype``, ``trainable``).

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> layer = mgl.RNN(mgl.SimpleRNNCell(4), return_sequences=True)
    >>> layer(mg.ones((2, 5, 3))).shape
    (2, 5, 4)
    """

    def build(self, input_shape) -> None:
        self._build_kernels(input_shape, (self.units,), self.bias_initializer)

    def call(self, inputs, states, training=None):
        """One step: ``(x_t (B, in), [h (B, units)]) -> (h_t, [h_t])``."""
        [h_prev] = _previous_states(states)
        x_mask = self._dropout_mask_list(inputs, training)
        h_mask = self._recurrent_dropout_mask_list(h_prev, training)
        if x_mask is not None:
            inputs = inputs * x_mask[0]
        if h_mask is not None:
            h_prev = h_prev * h_mask[0]
        z = mg.matmul(inputs, self.kernel)  # (B, units)
        if self.bias is not None:
            z = z + self.bias
        h = self.activation(z + mg.matmul(h_prev, self.recurrent_kernel))  # (B, units)
        return h, ([h] if isinstance(states, list | tuple) else h)


class _GatedCell(_RecurrentCell):
    """What LSTMCell and GRUCell add: ``recurrent_activation`` for the gates, and Keras'
    ``implementation`` (1 or 2), which is kept in the config and computes the same numbers; the
    legacy 0 means 1, with a warning (tf.keras 2)."""

    def __init__(self, units, recurrent_activation="sigmoid", implementation=2, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        if implementation == 0 and not isinstance(implementation, bool):
            warnings.warn(
                "`implementation=0` has been deprecated, and now defaults to "
                "`implementation=1`. Please update your layer call.",
                stacklevel=3,
            )
            implementation = 1
        if isinstance(implementation, bool) or implementation not in (1, 2):
            raise ValueError(
                "Received an invalid value for argument `implementation`, expected 1 or 2, "
                f"got {implementation!r}."
            )
        self.implementation = int(implementation)

    def get_config(self) -> dict:
        config = super().get_config()
        config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["implementation"] = self.implementation
        return config


class LSTMCell(_GatedCell):
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with a forget gate).

    The kernels hold four column blocks in the Keras gate order **i, f, c, o**: input gate,
    forget gate, cell candidate, output gate. With ``σ = recurrent_activation`` (sigmoid) and
    ``act = activation`` (tanh)::

        z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias      (B, 4 units): [z_i z_f z_c z_o]
        i, f, o = σ(z_i), σ(z_f), σ(z_o);   g = act(z_c)
        c_t = f * c_{t-1} + i * g
        h_t = o * act(c_t)

    Weights: ``kernel (input_dim, 4 units)``, ``recurrent_kernel (units, 4 units)``,
    ``bias (4 units,)``. Two states ``[h, c]`` (``state_size = [units, units]``); the output is
    ``h_t``. ``unit_forget_bias=True`` initialises the forget block of the bias to exactly ones
    (the other blocks from ``bias_initializer``), so the cell starts by remembering.

    Args: those of :class:`SimpleRNNCell` plus ``recurrent_activation="sigmoid"``,
    ``unit_forget_bias=True`` and ``implementation=2`` (1 or 2, the same numbers). With
    ``dropout`` or ``recurrent_dropout``, each gate gets its own mask (Keras ``implementation=1``).

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> out, h, c = mgl.RNN(mgl.LSTMCell(4), return_state=True)(mg.ones((2, 5, 3)))
    >>> out.shape, h.shape, c.shape
    ((2, 4), (2, 4), (2, 4))
    """

    _GATES = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        dropout=0.0,
        recurrent_dropout=0.0,
        implementation=2,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            implementation=implementation,
            **kwargs,
        )
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def build(self, input_shape) -> None:
        bias_initializer = self.bias_initializer
        if self.unit_forget_bias:
            bias_initializer = _UnitForgetBias(self.bias_initializer, self.units)
        self._build_kernels(input_shape, (4 * self.units,), bias_initializer)

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        """``[h, c]``: zeros ``(batch, units)`` each."""
        return _zeros_state(self, inputs, batch_size, dtype, count=2)

    def call(self, inputs, states, training=None):
        """One step: ``(x_t (B, in), [h, c] (B, units) each) -> (h_t, [h_t, c_t])``."""
        h_prev, c_prev = _previous_states(states)
        u = self.units
        x_masks = self._dropout_mask_list(inputs, training, count=4)
        h_masks = self._recurrent_dropout_mask_list(h_prev, training, count=4)
        if x_masks is None and h_masks is None:
            z = mg.matmul(inputs, self.kernel) + mg.matmul(h_prev, self.recurrent_kernel)
        else:
            z = _per_gate_products(
                inputs, x_masks, self.kernel, u, 4, h_prev, h_masks, self.recurrent_kernel
            )
        if self.bias is not None:
            z = z + self.bias  # (B, 4u)
        z_i, z_f, z_c, z_o = _gate_blocks(z, 4, u)  # (B, u) each
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        o = self.recurrent_activation(z_o)
        c = f * c_prev + i * self.activation(z_c)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self) -> dict:
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class _UnitForgetBias:
    """The LSTM bias initializer with ``unit_forget_bias``: ``[init(u), ones(u), init(2u)]``."""

    def __init__(self, initializer, units: int):
        self.initializer = initializer
        self.units = units

    def __call__(self, shape, dtype=None):
        u, dtype = self.units, as_dtype(dtype)
        blocks = [
            np.asarray(self.initializer((u,), dtype=dtype)),
            np.ones((u,), dtype=dtype),
            np.asarray(self.initializer((2 * u,), dtype=dtype)),
        ]
        return np.concatenate(blocks).astype(dtype)  # (4u,): i, f, c, o


class GRUCell(_GatedCell):
    """Gated recurrent unit (Cho et al. 2014), in its two Keras variants.

    The kernels hold three column blocks in the Keras gate order **z, r, h**: update gate, reset
    gate, candidate; ``U_z U_r U_h`` are the blocks of ``recurrent_kernel``. With
    ``σ = recurrent_activation`` (sigmoid) and ``act = activation`` (tanh), both variants compute
    ``z`` and ``r`` from ``x_t`` and ``h_{t-1}``, a candidate ``hh``, and then
    ``h_t = z * h_{t-1} + (1 - z) * hh``. They differ in where the reset gate acts:

    * ``reset_after=True`` (default; TF2, cuDNN and PyTorch): on the recurrent product,
      ``hh = act(x_h + r * (h_{t-1} @ U_h + b_rh))``; ``bias (2, 3 units)`` holds the input bias
      (row 0) and a recurrent bias (row 1). See :meth:`_step_reset_after`.
    * ``reset_after=False`` (the 2014 paper): on the state, ``hh = act(x_h + (r * h_{t-1}) @ U_h)``;
      ``bias (3 units,)`` is the input bias only. See :meth:`_step_reset_before`.

    Weights: ``kernel (input_dim, 3 units)``, ``recurrent_kernel (units, 3 units)``, and the
    bias above. One state ``h``; the output is ``h_t``.

    Args: those of :class:`SimpleRNNCell` plus ``recurrent_activation="sigmoid"``,
    ``implementation=2`` (1 or 2, the same numbers; the legacy 0 means 1, with a warning) and
    ``reset_after=True``. With ``dropout`` or ``recurrent_dropout``, each gate gets its own mask
    (Keras ``implementation=1``); the carried ``h_{t-1}`` in the last line is never masked.

    >>> import minigrad as mg, minigrad_layers as mgl
    >>> mgl.RNN(mgl.GRUCell(4, reset_after=False))(mg.ones((2, 5, 3))).shape
    (2, 4)
    """

    _GATES = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        implementation=2,
        reset_after=True,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            implementation=implementation,
            **kwargs,
        )
        self.reset_after = bool(reset_after)

    def build(self, input_shape) -> None:
        bias_shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        self._build_kernels(input_shape, bias_shape, self.bias_initializer)

    def call(self, inputs, states, training=None):
        """One step: ``(x_t (B, in), [h (B, units)]) -> (h_t, [h_t])``, in the variant's method."""
        [h_prev] = _previous_states(states)
        x_masks = self._dropout_mask_list(inputs, training, count=3)
        h_masks = self._recurrent_dropout_mask_list(h_prev, training, count=3)
        step = self._step_reset_after if self.reset_after else self._step_reset_before
        h = step(inputs, h_prev, x_masks, h_masks)
        return h, ([h] if isinstance(states, list | tuple) else h)

    def _step_reset_after(self, x, h_prev, x_masks, h_masks):
        """``reset_after=True``, the cuDNN / PyTorch form; ``bias (2, 3u)`` = ``[b_in, b_rec]``::

        [x_z x_r x_h] = x_t @ kernel + b_in                      (B, u) each
        [h_z h_r h_h] = h_{t-1} @ recurrent_kernel + b_rec       (B, u) each
        z = σ(x_z + h_z),  r = σ(x_r + h_r)
        hh = act(x_h + r * h_h)
        h_t = hh + z * (h_{t-1} - hh)                            (= z h_{t-1} + (1-z) hh)
        """
        input_bias = recurrent_bias = None
        if self.bias is not None:
            input_bias, recurrent_bias = mg.unstack(self.bias)  # (3u,) each
        x_z, x_r, x_h = self._input_gates(x, x_masks, input_bias)
        hu = _masked_product(h_prev, h_masks, self.recurrent_kernel, self.units)  # (B, 3u)
        if recurrent_bias is not None:
            hu = hu + recurrent_bias
        h_z, h_r, h_h = _gate_blocks(hu, 3, self.units)
        z = self.recurrent_activation(x_z + h_z)
        r = self.recurrent_activation(x_r + h_r)
        hh = self.activation(x_h + r * h_h)
        return hh + z * (h_prev - hh)

    def _step_reset_before(self, x, h_prev, x_masks, h_masks):
        """``reset_after=False``, the original form; ``bias (3u,)`` is the input bias only::

            [x_z x_r x_h] = x_t @ kernel + bias                      (B, u) each
            [h_z h_r] = h_{t-1} @ [U_z U_r]                          (B, u) each
            z = σ(x_z + h_z),  r = σ(x_r + h_r)
            hh = act(x_h + (r * h_{t-1}) @ U_h)
            h_t = hh + z * (h_{t-1} - hh)

        With recurrent dropout, ``h_{t-1}`` is masked per gate: ``h_masks[k]`` in the product of
        gate k, ``h_masks[2]`` in the candidate's.
        """
        u = self.units
        x_z, x_r, x_h = self._input_gates(x, x_masks, self.bias)
        recurrent_zr = self.recurrent_kernel[:, : 2 * u]  # (u, 2u): U_z U_r
        h_z, h_r = _gate_blocks(_masked_product(h_prev, h_masks, recurrent_zr, u), 2, u)
        z = self.recurrent_activation(x_z + h_z)
        r = self.recurrent_activation(x_r + h_r)
        h_for_candidate = h_prev if h_masks is None else h_prev * h_masks[2]
        hh = self.activation(
            x_h + mg.matmul(r * h_for_candidate, self.recurrent_kernel[:, 2 * u :])
        )
        return hh + z * (h_prev - hh)

    def _input_gates(self, x, x_masks, input_bias) -> list:
        """``[x_z, x_r, x_h]``, the blocks of ``x_t @ kernel + input_bias``, ``(B, u)`` each."""
        xw = _masked_product(x, x_masks, self.kernel, self.units)  # (B, 3u)
        if input_bias is not None:
            xw = xw + input_bias
        return _gate_blocks(xw, 3, self.units)

    def get_config(self) -> dict:
        return {**super().get_config(), "reset_after": self.reset_after}


def _gate_blocks(z, gates: int, u: int) -> list:
    """The column blocks of ``z (..., gates * u)``, one ``(..., u)`` Tensor per gate, recorded as
    one reshape and one unstack (whose gradient is a single stack)."""
    return mg.unstack(mg.reshape(z, z.shape[:-1] + (gates, u)), axis=-2)


def _masked_product(x, masks, kernel, u: int):
    """``x @ kernel``, or with one dropout mask per gate ``(x * masks[k]) @ kernel_k`` for each
    column block ``k`` of ``kernel``, joined into ``(B, kernel width)``."""
    if masks is None:
        return mg.matmul(x, kernel)
    gates = kernel.shape[1] // u
    return _per_gate_products(x, masks, kernel, u, gates)


def _per_gate_products(x, x_masks, kernel, u, gates, h=None, h_masks=None, recurrent_kernel=None):
    """The gate pre-activations with one dropout mask per gate (Keras ``implementation=1``).

    Gate k reads ``x * x_masks[k]`` (and, when ``h`` is given, ``h * h_masks[k]``), unmasked where
    the masks are None, against its column block ``k*u:(k+1)*u`` of ``kernel`` (and of
    ``recurrent_kernel``). Returns the blocks joined into ``(B, gates * u)``, like the fused
    product ``x @ kernel (+ h @ recurrent_kernel)``.
    """
    blocks = []
    for k in range(gates):
        cols = slice(k * u, (k + 1) * u)
        x_k = x if x_masks is None else x * x_masks[k]
        z = mg.matmul(x_k, kernel[:, cols])  # (B, u)
        if h is not None:
            h_k = h if h_masks is None else h * h_masks[k]
            z = z + mg.matmul(h_k, recurrent_kernel[:, cols])  # (B, u)
        blocks.append(z)
    return mg.concat(blocks, axis=1)  # (B, gates * u)
