"""The generic recurrent layer ``RNN(cell)``: runs a cell over the time axis (tf.keras 2 semantics).

Read :class:`RNN`'s docstring for the cell protocol, then ``loop.py`` for the time loop itself.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad.nest import flatten, is_nested, pack_sequence_as
from minigrad_layers.engine.functional import is_shape
from minigrad_layers.engine.input_spec import InputSpec
from minigrad_layers.engine.layer import Layer, _as_tensors, checked_mask
from minigrad_layers.engine.masks import get_keras_mask
from minigrad_layers.layers.rnn import fused, loop, segments
from minigrad_layers.layers.rnn.nested import (
    batch_and_steps,
    cell_errors,
    check_structure,
    flatten_shapes,
    map_shapes,
    one_mask,
    skeleton,
)
from minigrad_layers.layers.rnn.protocol import (
    build_cell,
    call_accepts,
    cell_name,
    check_cell,
    check_step_results,
    clone_cell,
    initial_states,
    is_multiple_state,
    output_shapes,
    pack_outputs,
    pack_states,
    reset_dropout_masks,
    state_shapes,
    zero_states,
)
from minigrad_layers.layers.rnn.stacked import StackedRNNCells

_UNROLL_UNKNOWN_TIME = (
    "Cannot unroll a RNN if the time dimension is undefined. \n"
    "- If using a Sequential model, specify the time dimension by passing an `input_shape` or "
    "`batch_input_shape` argument to your first layer. If your first layer is an Embedding, you "
    "can also use the `input_length` argument.\n"
    "- If using the functional API, specify the time dimension by passing a `shape` or "
    "`batch_shape` argument to your Input layer."
)
_STATEFUL_UNKNOWN_BATCH = (
    "If a RNN is stateful, it needs to know its batch size. Specify the batch size of your input "
    "tensors: \n"
    "- If using a Sequential model, specify the batch size by passing a `batch_input_shape` "
    "argument to your first layer.\n"
    "- If using the functional API, specify the batch size by passing a `batch_shape` argument "
    "to your Input layer."
)


class RNN(Layer):
    """Base class for recurrent layers: runs ``cell`` over every time step of the input.

    **The cell protocol.** Any object with a ``call`` method and a ``state_size`` attribute is a
    cell; it need not be a ``Layer``, but a ``Layer`` cell has its weights tracked by the RNN
    (and is built by it, on the step input shape).

    * ``call(inputs_at_t, states_at_t, [training=...], [constants=...])`` returns
      ``(output_at_t, new_states)``. ``inputs_at_t`` is one time step, ``(batch,) +
      input_shape[2:]`` (so a 4-D input ``(batch, time, a, b)`` gives steps ``(batch, a, b)``);
      for a nested input (a list, tuple or dict of sequences, see ``nested.py``) the same
      structure of steps, and ``build`` gets the structure of step shapes.
      ``states_at_t`` is always a list: ``[h]`` for a single state, else one entry per element of
      ``state_size`` (a nested list for an element that is itself a list/tuple). ``new_states``
      comes back in the same nesting (a bare Tensor is fine for a single state). ``training`` is
      passed only if ``call`` names it, and ``constants`` (a list of Tensors, the same at every
      step) only if ``call`` names it; the layer calls ``cell.call`` directly, not the Layer's
      ``__call__``.
    * ``state_size``: an int ``n`` (one state ``(batch, n)``), a ``TensorShape`` (one state with
      several per-sample dimensions: ``TensorShape((u, 2))`` gives ``(batch, u, 2)``), or a
      list/tuple of those, possibly nested (several states, in that order). As in Keras, a plain
      tuple of ints means several flat states, never one multi-dimensional state.
    * ``output_size`` (optional): an int or ``TensorShape``; when absent, the first state's size.
      A cell that returns several outputs (a list, tuple or dict of Tensors) declares them by a
      nested ``output_size`` (``[TensorShape([u1]), TensorShape([u2, u3])]``); the layer then
      returns (the sequences of) that structure.
    * ``get_initial_state(inputs=None, batch_size=None, dtype=None)`` (optional): the states to
      start from when none are given; zeros otherwise.
    * ``reset_dropout_mask()`` / ``reset_recurrent_dropout_mask()`` (optional): called at the
      start of every layer call, so a cell can draw its dropout masks once per sequence.
    * Weights are read through the cell's attributes at every ``call`` (the per-step weight reads
      of ``mgl.inspect`` rebind them while a step runs).

    Arguments: ``cell`` (a cell, or a list/tuple of cells meaning ``StackedRNNCells(cells)``),
    ``return_sequences`` (return every step's output, ``(batch, time, out)``, instead of the last
    one), ``return_state`` (also return the final states), ``go_backwards`` (process the input
    from the last step to the first and return the sequence in that processing order),
    ``stateful`` (keep the final states of a batch as the initial states of the next call),
    ``unroll`` (both values give identical results: ``True`` always runs the per-step loop of
    ``loop.py``; ``False`` lets a built-in cell take the fused path of ``fused.py``, where the
    recurrence over the whole sequence is one op), ``time_major`` (inputs and outputs are
    ``(time, batch, ...)``), ``zero_output_for_mask`` (masked steps output zeros instead of
    repeating the previous output), ``truncate_gradient`` (None for full backpropagation through
    time, or an int ``k``: the state carried into processing step ``t`` passes through
    ``mg.stop_gradient`` whenever ``t > 0 and t % k == 0``; the forward pass is unchanged),
    ``checkpoint_every`` (None, or an int ``k``: memory-efficient BPTT, the tape keeping only the
    states carried into every k-th step and recomputing each segment during the backward sweep,
    see ``segments.py``; the same numbers; not with ``truncate_gradient``, nor with dropout while
    training; an attached ``step_observer`` sees the plain loop), plus the Layer arguments.

    Call: ``rnn(inputs, mask=None, training=None, initial_state=None, constants=None)``;
    ``inputs`` is a Tensor or a nested structure of them (``nested.py``). A list or tuple input
    always means a nested input (tf.keras 2 also read ``rnn([x, h0, c0])`` as ``x`` and its
    initial states; here they go in ``initial_state``).

    * Returns the output, or with ``return_state`` the list ``[output, *states]`` where the
      states are nested as ``states_at_t`` above; for stacked cells one entry per cell, in cell
      order (``[out, h_simple, [h_lstm, c_lstm], h_gru]``). ``initial_state`` takes the same
      nesting (a single Tensor for a single state); a flat list for stacked cells is an error.
    * ``mask``: ``(batch, time)`` bool (or numbers all 0/1), True = keep; taken from the
      input Tensor's attached mask (``get_keras_mask``) when not given. The cell still runs at a
      masked step, but its result is discarded: the states keep their previous values and the
      output repeats the previous step's output ("before the first step" it is zeros, not the
      initial state; every output of a nested output alike); with ``zero_output_for_mask``
      the output is zeros, also the single returned output of a row whose last step is masked.
      ``go_backwards`` reverses the mask with the input. The sequences of a nested input share
      one mask: the masks attached to them (or given as a list) must agree where given.
    * Every step runs inside ``mg.name_scope(f"{name}/t{t}")``, t in processing order.

    Attribute ``step_observer``: None, or a ``loop.StepObserver`` that sees every step of this
    layer's calls (``mgl.inspect`` attaches one for the length of a ``with`` block); while one is
    attached the layer always runs the per-step loop.

    ``stateful=True``: the batch size is fixed by ``batch_input_shape`` / ``Input(batch_size=)``
    when given, else by the first call (attribute ``stateful_batch_size``); another batch size
    raises ``ValueError``. The kept states start from the cell's ``get_initial_state`` (else
    zeros), are replaced by the (detached) final states after every call, are not weights, and
    lose to an explicit ``initial_state``. ``reset_states(states=None)`` zeros them or sets them
    from a flat list of arrays in state order.

    >>> import minigrad as mg
    >>> import minigrad_layers as mgl
    >>> class Accumulator:  # a cell that is not a Layer: h_t = h_{t-1} + sum(x_t)
    ...     state_size = 1
    ...     def call(self, x, states):
    ...         h = states[0] + mg.sum(x, axis=1, keepdims=True)
    ...         return h, [h]
    >>> layer = mgl.RNN(Accumulator(), return_sequences=True, return_state=True)
    >>> seq, h = layer(mg.ones((2, 3, 4)))
    >>> seq.shape, h.numpy().ravel().tolist()
    ((2, 3, 1), [12.0, 12.0])
    """

    def __init__(
        self,
        cell,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        time_major: bool = False,
        zero_output_for_mask: bool = False,
        truncate_gradient: int | None = None,
        checkpoint_every: int | None = None,
        **kwargs,
    ):
        if isinstance(cell, list | tuple):
            cell = StackedRNNCells(cell)
        check_cell(cell)
        if truncate_gradient is not None and (
            isinstance(truncate_gradient, bool)
            or not isinstance(truncate_gradient, int | np.integer)
            or truncate_gradient < 1
        ):
            raise ValueError(
                "truncate_gradient must be None (full backpropagation through time) or a "
                f"positive int (the chunk length in steps), received {truncate_gradient!r}"
            )
        _check_checkpoint_every(checkpoint_every, truncate_gradient)
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.time_major = bool(time_major)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.truncate_gradient = None if truncate_gradient is None else int(truncate_gradient)
        self.checkpoint_every = None if checkpoint_every is None else int(checkpoint_every)
        self.supports_masking = True
        self._cell_takes_training = call_accepts(cell, "training")
        self._cell_takes_constants = call_accepts(cell, "constants")
        self._kept_states = None  # stateful: flat list of Tensors (never weights)
        self.step_observer = None  # a loop.StepObserver, attached by inspection tools
        self.stateful_batch_size = None
        self._built_steps = None  # skeleton of the step shapes (after batch) built on
        self._checked_shape = None  # ((shape, time_major), batch, steps) of the last input
        if self.stateful and self._batch_input_shape is not None:  # batch_input_shape=...
            self.stateful_batch_size = self._batch_input_shape[self._axes()[0]]

    # -- shapes ------------------------------------------------------------------------------
    def _axes(self) -> tuple[int, int]:
        """(batch axis, time axis) of the input."""
        return (1, 0) if self.time_major else (0, 1)

    def _check_input_shape(self, shape: tuple, index: int = 0) -> None:
        if len(shape) < 3:
            layout = "(time, batch, features)" if self.time_major else "(batch, time, features)"
            raise ValueError(
                f"Input {index} of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim >= 3 {layout}, found ndim={len(shape)}. Full shape received: "
                f"{tuple(shape)}"
            )
        if self.unroll and shape[self._axes()[1]] is None:
            raise ValueError(_UNROLL_UNKNOWN_TIME)

    def _batch_and_steps(self, input_shape) -> tuple:
        """Check the input shape (or the structure of shapes of a nested input) and return the
        batch size and the number of steps (``None`` when unknown)."""
        if is_shape(input_shape):
            shape = tuple(input_shape)
            self._check_input_shape(shape)
            batch_axis, time_axis = self._axes()
            return shape[batch_axis], shape[time_axis]
        shapes = flatten_shapes(input_shape)
        for index, shape in enumerate(shapes):
            self._check_input_shape(shape, index)
        check_structure(self._built_steps, input_shape, self.name, self.cell)
        return batch_and_steps(shapes, self._axes(), self.name, input_shape)

    def build(self, input_shape) -> None:
        """Build the cell on the step input shape ``(batch,) + input_shape[2:]`` (a structure
        of them for a nested input); later calls must have the same step shapes (any batch and
        length: ``input_spec``, or for a nested input the structure recorded here)."""
        batch, _ = self._batch_and_steps(input_shape)
        if is_shape(input_shape):
            self.input_spec = InputSpec(shape=(None, None, *tuple(input_shape)[2:]))
        step_shapes = map_shapes(lambda s: (batch, *s[2:]), input_shape)
        if self.stateful and self.stateful_batch_size is None and batch is not None:
            self.stateful_batch_size = batch
        with cell_errors(
            self.name,
            self.cell,
            not is_shape(input_shape),
            f"while building on the step shapes {step_shapes}",
        ):
            build_cell(self.cell, step_shapes)
        self._built_steps = map_shapes(lambda s: s[2:], skeleton(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        """The output shape(s), nested like the call's return value (``None`` = unknown): a
        nested ``output_size`` gives a list (or dict) of output shapes."""
        batch, steps = self._batch_and_steps(input_shape)

        def shape_of_output(out: tuple) -> tuple:
            if not self.return_sequences:
                return (batch, *out)
            return (steps, batch, *out) if self.time_major else (batch, steps, *out)

        outputs = [shape_of_output(out) for out in output_shapes(self.cell) or [(None,)]]
        output = pack_outputs(self.cell, outputs)
        if not self.return_state:
            return output
        states = [(batch, *s) for s in state_shapes(self.cell.state_size)]
        return [output, *pack_states(self.cell.state_size, states)]

    def compute_mask(self, inputs, mask=None):
        """The input mask for a returned sequence (for each of a nested output), else None;
        ``None`` for every state."""
        mask = self._given_masks(inputs, mask)
        if isinstance(mask, list):  # they agree (the call checked it)
            mask = one_mask(mask, self.name)
        output_mask = mask if self.return_sequences else None
        size = getattr(self.cell, "output_size", None)
        if is_nested(size):
            output_mask = pack_sequence_as(size, [output_mask] * len(flatten(size)))
        if self.return_state:
            return [output_mask] + [None] * len(self.states)
        return output_mask

    def _given_masks(self, inputs, mask):
        """``mask`` when it is one mask, else the list of the masks given (a list, one per
        input) and attached to the sequences of ``inputs``: one ``(batch, time)`` mask must hold
        for all of them (``nested.one_mask``)."""
        if mask is not None and not isinstance(mask, list | tuple):
            return mask
        if mask is None and isinstance(inputs, mg.Tensor):  # one sequence: the mask it carries
            return get_keras_mask(inputs)
        given = [] if mask is None else flatten(mask)
        return [*given, *(get_keras_mask(x) for x in flatten(inputs))]

    # -- states ------------------------------------------------------------------------------
    def _num_states(self) -> int:
        return len(state_shapes(self.cell.state_size))

    def _pack(self, flat: list) -> list:
        return pack_states(self.cell.state_size, flat)

    @property
    def states(self) -> list:
        """The kept states of a stateful layer, nested like ``initial_state`` (``None`` entries
        before the first call, or on a layer that is not stateful)."""
        if self._kept_states is None:
            return self._pack([None] * self._num_states())
        return self._pack(self._kept_states)

    def get_initial_state(self, inputs) -> list:
        """The states a call on ``inputs`` starts from when no ``initial_state`` is given (the
        cell's ``get_initial_state``, else zeros), nested like ``initial_state``."""
        first = flatten(_as_tensors(inputs, None))[0]  # a nested input: its first sequence
        batch = first.shape[self._axes()[0]]
        return self._pack(initial_states(self.cell, batch, self.dtype))

    def reset_states(self, states=None) -> None:
        """Zero the kept states (``states=None``) or set them from arrays given as a flat list in
        state order. Only for stateful layers."""
        if not self.stateful:
            raise AttributeError(
                f"Layer must be stateful. reset_states() was called on layer {self.name!r}, "
                "which was created with stateful=False."
            )
        batch = self.stateful_batch_size
        if batch is None:
            raise ValueError(_STATEFUL_UNKNOWN_BATCH)
        dtype = self.dtype
        if states is None:
            self._kept_states = zero_states(self.cell.state_size, batch, dtype)
            return
        values = flatten(states) if isinstance(states, list | tuple) else [states]
        shapes = [(batch, *s) for s in state_shapes(self.cell.state_size)]
        if len(values) != len(shapes):
            raise ValueError(
                f"Layer {self.name} expects {len(shapes)} states, but it received "
                f"{len(values)} state values. Input received: {states!r}"
            )
        kept = []
        for i, (value, shape) in enumerate(zip(values, shapes, strict=True)):
            array = np.array(np.asarray(value), dtype=dtype)
            if array.shape != shape:
                raise ValueError(
                    f"State {i} is incompatible with layer {self.name}: expected "
                    f"shape={shape}, found shape={array.shape}"
                )
            kept.append(mg.Tensor(array))
        self._kept_states = kept

    def _given_initial_state(self, initial_state, batch: int) -> list[mg.Tensor]:
        """Check an explicit ``initial_state`` (nesting, count, shapes); return it flat."""
        size = self.cell.state_size
        shapes = [(batch, *s) for s in state_shapes(size)]
        given = [initial_state] if not isinstance(initial_state, list | tuple) else initial_state
        values = flatten(given)
        if len(values) != len(shapes):
            raise ValueError(
                f"Layer {self.name} has {len(shapes)} states but was passed {len(values)} "
                f"initial states (cell {cell_name(self.cell)}, state_size={size!r})."
            )
        expected = self._pack(shapes)
        if not _same_nesting(given, expected):
            raise ValueError(
                f"Layer {self.name}: initial_state must be nested like the states, one entry per "
                f"cell, a list for a cell with several states: expected {expected}; received "
                f"{_shapes_of(given)} (cell {cell_name(self.cell)}, state_size={size!r})."
            )
        states = [_as_tensors(v, self.dtype) for v in values]
        states = [s if s.dtype == self.dtype else mg.cast(s, self.dtype) for s in states]  # ints
        found = [s.shape for s in states]
        if found != shapes:
            raise ValueError(
                "An `initial_state` was passed that is not compatible with `cell.state_size`. "
                f"Received `state_spec`={found}; however `cell.state_size` is {size!r} "
                f"(layer {self.name!r}: expected shapes {shapes} for a batch of {batch})"
            )
        return states

    # -- the call ----------------------------------------------------------------------------
    def _standardize_mask(self, mask, batch: int, steps: int) -> np.ndarray | None:
        """The mask as a ``(batch, time)`` bool array, or None when it keeps every step."""
        mask = checked_mask(mask, self.name)
        if isinstance(mask, list):  # one per sequence of a nested input: they must agree
            mask = one_mask(flatten(mask), self.name)
        if mask is None:
            return None
        array = mask.numpy()
        if array.shape != (batch, steps):
            raise ValueError(
                f"Layer {self.name!r}: the mask must have shape (batch, timesteps) = "
                f"{(batch, steps)}, the same for time_major inputs; received a mask of shape "
                f"{array.shape}"
            )
        return None if array.all() else array

    def _check_stateful_batch(self, batch: int) -> None:
        if self.stateful_batch_size is None:
            self.stateful_batch_size = batch
        elif batch != self.stateful_batch_size:
            raise ValueError(
                "If an RNN is stateful, the batch size of the input sequences must be the same "
                "as the batch size of the initial state. \n"
                f"- Expected batch size: {self.stateful_batch_size}\n"
                f"- Received batch size: {batch}"
            )

    def _step_function(self, step_kwargs: dict, nested_input: bool):
        """``(x_t, flat_states) -> (y_t, flat_new_states)`` around ``cell.call``; ``x_t`` and
        ``y_t`` may be structures. The first step's results are checked (and, where structures
        are involved, the cell's errors in it explained: ``_cell_errors``)."""
        cell_call = self.cell.call
        size = self.cell.state_size
        single = not is_multiple_state(size)

        def call_cell(x_t, states):
            return cell_call(x_t, states if single else pack_states(size, states), **step_kwargs)

        first = [True]

        def step(x_t, states):
            if first[0]:  # the shapes cannot change from step to step: check them once
                first[0] = False
                what = (
                    f"on the step inputs {skeleton(x_t)} with states {skeleton(self._pack(states))}"
                )
                with cell_errors(self.name, self.cell, nested_input, what):
                    output, new_states = call_cell(x_t, states)
                batch = flatten(x_t)[0].shape[0]
                new_states = check_step_results(self.cell, self.name, batch, output, new_states)
                return output, new_states
            output, new_states = call_cell(x_t, states)
            if isinstance(new_states, mg.Tensor):
                return output, [new_states]
            return output, flatten(new_states)

        return step

    def _checked_batch_and_steps(self, inputs, nested_input: bool) -> tuple[int, int]:
        """Check the input's shapes against the layer; return its batch size and steps. A
        Tensor of the shape last checked is not checked again (one-step calls repeat it)."""
        if not nested_input:
            key = (inputs.shape, self.time_major)
            if self._checked_shape is not None and self._checked_shape[0] == key:
                return self._checked_shape[1:]
        shapes = skeleton(inputs) if nested_input else tuple(inputs.shape)
        batch, steps = self._batch_and_steps(shapes)
        if not nested_input:
            check_structure(self._built_steps, shapes, self.name, self.cell)
        if steps == 0:
            raise ValueError(f"{self.name}: the input has no time steps (shape {shapes})")
        if not nested_input:
            self.__dict__["_checked_shape"] = (key, batch, steps)
        return batch, steps

    def _standardize_inputs(self, inputs):
        """``(inputs, nested)``: the input as Tensors (one, or a structure of them) and whether
        it is a structure."""
        inputs = _as_tensors(inputs, None)
        nested = is_nested(inputs)
        if nested:
            bad = [x for x in flatten(inputs) if not isinstance(x, mg.Tensor)]
            if bad:
                raise TypeError(
                    f"Layer {self.name!r}: a nested input holds Tensors (or arrays), received "
                    f"{type(bad[0]).__name__} in {skeleton(inputs)}"
                )
        return inputs, nested

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        inputs, nested_input = self._standardize_inputs(inputs)
        batch, steps = self._checked_batch_and_steps(inputs, nested_input)
        mask = self._standardize_mask(self._given_masks(inputs, mask), batch, steps)
        if self.stateful:
            self._check_stateful_batch(batch)
        if initial_state is not None:
            states = self._given_initial_state(initial_state, batch)
        elif self.stateful:
            if self._kept_states is None:
                self._kept_states = initial_states(self.cell, batch, self.dtype)
            states = self._kept_states
        else:
            states = initial_states(self.cell, batch, self.dtype)

        step_kwargs = {}
        if constants is not None:
            if not self._cell_takes_constants:
                raise ValueError(
                    f"Layer {self.name!r}: RNN cell does not support constants: the `call` of "
                    f"{type(self.cell).__name__} has no `constants` argument"
                )
            constants = constants if isinstance(constants, list | tuple) else [constants]
            step_kwargs["constants"] = [_as_tensors(c, self.dtype) for c in constants]
        if self._cell_takes_training:
            step_kwargs["training"] = training
        reset_dropout_masks(self.cell)

        # The one place where the sequence is processed: built-in cells may take the fused path
        # (the recurrence over the whole sequence as one op); the per-step loop is its reference.
        options = {
            "name": self.name,
            "mask": mask,
            "time_major": self.time_major,
            "go_backwards": self.go_backwards,
            "zero_output_for_mask": self.zero_output_for_mask,
            "truncate_gradient": self.truncate_gradient,
            "return_sequences": self.return_sequences,
        }
        if fused.applies(self, inputs, training, constants):

            def run(x, states, mask):
                return fused.scan(self.cell, x, states, training=training, **options, mask=mask)
        else:
            step = self._step_function(step_kwargs, nested_input)

            def run(x, states, mask):
                return loop.scan(step, x, states, observer=self.step_observer, **options, mask=mask)

        options.pop("mask")
        if self.checkpoint_every is None or self.step_observer is not None:
            last_output, sequence, final_states = run(inputs, states, mask)
        else:
            self._check_deterministic(training)
            last_output, sequence, final_states = segments.scan(
                run,
                inputs,
                states,
                every=self.checkpoint_every,
                mask=mask,
                time_major=self.time_major,
                go_backwards=self.go_backwards,
                zero_output_for_mask=self.zero_output_for_mask,
                return_sequences=self.return_sequences,
            )
        if self.stateful:
            self._kept_states = [mg.stop_gradient(s) for s in final_states]
        output = sequence if self.return_sequences else last_output
        if self.return_state:
            return [output, *self._pack(final_states)]
        return output

    # -- config ------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments. ``cell`` is the cell object itself: ``from_config`` makes
        an unbuilt copy of it (from its own ``get_config`` when its class writes one, else with
        ``copy.deepcopy``). Subclasses that build their own cell drop ``"cell"``."""
        config = {
            **super().get_config(),
            "cell": self.cell,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "time_major": self.time_major,
            "truncate_gradient": self.truncate_gradient,
        }
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        if self.checkpoint_every is not None:
            config["checkpoint_every"] = self.checkpoint_every
        return config

    @classmethod
    def from_config(cls, config: dict):
        """A new layer from ``get_config()``; the cell (when present) is copied, never shared."""
        config = dict(config)
        if "cell" in config:
            config["cell"] = clone_cell(config["cell"])
        return cls(**config)

    def reset_state(self, states=None) -> None:
        """Keras 3's name for :meth:`reset_states`, with the same behaviour."""
        self.reset_states(states)

    def _check_deterministic(self, training) -> None:
        """A recomputed segment must compute what it computed first: no dropout draws."""
        rates = [getattr(self.cell, n, 0.0) for n in ("dropout", "recurrent_dropout")]
        if training and any(rates):
            raise ValueError(
                f"Layer {self.name!r}: checkpoint_every={self.checkpoint_every} recomputes each "
                f"segment in the backward sweep, which dropout (rates {rates}) would draw anew; "
                "train with checkpoint_every=None, or without dropout"
            )


def _check_checkpoint_every(checkpoint_every, truncate_gradient) -> None:
    if checkpoint_every is None:
        return
    if (
        isinstance(checkpoint_every, bool)
        or not isinstance(checkpoint_every, int | np.integer)
        or checkpoint_every < 1
    ):
        raise ValueError(
            "checkpoint_every must be None (store every step for BPTT) or a positive int (the "
            f"segment length in steps), received {checkpoint_every!r}"
        )
    if truncate_gradient is not None:
        raise ValueError(
            f"checkpoint_every={checkpoint_every} and truncate_gradient={truncate_gradient} "
            "cannot be combined: truncate the gradient or recompute segments, not both"
        )


def _same_nesting(given, expected) -> bool:
    """Whether ``given`` has the list nesting of ``expected`` (whose leaves are shape tuples)."""
    if isinstance(expected, list):
        return (
            isinstance(given, list | tuple)
            and len(given) == len(expected)
            and all(_same_nesting(g, e) for g, e in zip(given, expected, strict=True))
        )
    return not isinstance(given, list | tuple)


def _shapes_of(structure):
    """A nested list/tuple of tensors with every tensor replaced by its shape."""
    if isinstance(structure, list | tuple):
        return [_shapes_of(s) for s in structure]
    return np.shape(structure)
