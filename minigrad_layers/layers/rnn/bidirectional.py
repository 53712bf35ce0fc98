"""Bidirectional: run a recurrent layer forwards and a copy of it backwards, and merge the two."""

from __future__ import annotations

import minigrad as mg
from minigrad.nest import flatten, is_nested
from minigrad_layers.engine.layer import Layer

_MERGE_MODES = ("concat", "sum", "ave", "mul", None)


class Bidirectional(Layer):
    """Bidirectional wrapper for recurrent layers (tf.keras 2 semantics).

    Two copies of ``layer`` are made from its config: ``forward_<name>``, and
    ``backward_<name>`` with ``go_backwards`` flipped (or ``backward_layer``, renamed
    ``backward_<its name>``, when given). Both receive the mask, ``training`` and
    ``constants``; both get ``zero_output_for_mask = return_sequences``. The backward
    sequence is flipped back along the time axis (axis 0 when ``time_major``) before
    merging, so step t of the result combines both directions at input position t.

    * ``merge_mode``: ``"concat"`` (forward half first on the last axis), ``"sum"``, ``"ave"``,
      ``"mul"``, or ``None`` (return ``[forward, backward]``).
    * ``initial_state``: a flat list, the forward layer's states then the backward layer's.
    * With ``return_state``: ``[merged..., *forward_states, *backward_states]``.
    * Weights: the forward copy's, then the backward copy's.

    >>> import minigrad as mg
    >>> import minigrad_layers as mgl
    >>> bi = mgl.Bidirectional(mgl.SimpleRNN(3, return_sequences=True))
    >>> bi(mg.ones((2, 5, 4))).shape, bi.forward_layer.name, bi.backward_layer.go_backwards
    ((2, 5, 6), 'forward_simple_rnn', True)
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards"):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a recurrent layer instance (an "
                f"RNN, LSTM, GRU, ...). Received: {layer!r}"
            )
        if backward_layer is not None and (
            not isinstance(backward_layer, Layer) or not hasattr(backward_layer, "go_backwards")
        ):
            raise ValueError(
                f"`backward_layer` needs to be a recurrent layer instance. Received: "
                f"{backward_layer!r}"
            )
        for wrapped in (layer, backward_layer):
            size = getattr(getattr(wrapped, "cell", None), "output_size", None)
            if is_nested(size):
                raise ValueError(
                    f"Bidirectional merges one output per direction, but the cell of layer "
                    f"{wrapped.name!r} has several outputs (output_size={size!r})"
                )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        # Unbuilt copies for get_config: bookkeeping, not sub-layers to track.
        self.__dict__["_templates"] = tuple(
            None if t is None else _copy(t, t.name) for t in (layer, backward_layer)
        )
        self.forward_layer = _copy(layer, f"forward_{layer.name}")
        if backward_layer is None:
            backward = _copy(layer, f"backward_{layer.name}", go_backwards=not layer.go_backwards)
        else:
            backward = backward_layer
            backward.name = f"backward_{backward.name}"
        self.backward_layer = backward
        _verify_pair(self.forward_layer, self.backward_layer)
        for inner in (self.forward_layer, self.backward_layer):
            inner.zero_output_for_mask = inner.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True

    # -- delegated recurrent attributes --------------------------------------------------------
    @property
    def stateful(self) -> bool:
        return self.forward_layer.stateful

    @property
    def stateful_batch_size(self):
        return self.forward_layer.stateful_batch_size

    @property
    def states(self) -> list:
        """The forward layer's kept states, then the backward layer's."""
        return [*self.forward_layer.states, *self.backward_layer.states]

    def reset_states(self, states=None) -> None:
        """Reset both layers; ``states`` is a flat list, forward states then backward ones."""
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        forward, backward = self._split_states(states)
        self.forward_layer.reset_states(flatten(forward))
        self.backward_layer.reset_states(flatten(backward))

    def _split_states(self, states) -> tuple[list, list]:
        """A flat list of states -> (forward states, backward states), each nested like that
        layer's own ``initial_state``."""
        flat = flatten(states) if isinstance(states, list | tuple) else [states]
        n_forward = self.forward_layer._num_states()
        n_backward = self.backward_layer._num_states()
        if len(flat) != n_forward + n_backward:
            raise ValueError(
                f"Layer {self.name} has {n_forward + n_backward} states ({n_forward} forward, "
                f"{n_backward} backward) but was passed {len(flat)} initial states."
            )
        return (
            self.forward_layer._pack(flat[:n_forward]),
            self.backward_layer._pack(flat[n_forward:]),
        )

    def get_config(self) -> dict:
        """``layer`` (and a given ``backward_layer``) are fresh unbuilt copies of the layers
        this wrapper was made from."""
        layer, backward = (None if t is None else _copy(t, t.name) for t in self._templates)
        return {
            **super().get_config(),
            "layer": layer,
            "merge_mode": self.merge_mode,
            "backward_layer": backward,
        }

    # -- shapes --------------------------------------------------------------------------------
    def build(self, input_shape) -> None:
        for inner in (self.forward_layer, self.backward_layer):
            if not inner.built:
                inner.build(input_shape)  # inside this build: weights named "<name>/forward_..."
        self.built = True

    def compute_output_shape(self, input_shape):
        forward = self.forward_layer.compute_output_shape(input_shape)
        backward = self.backward_layer.compute_output_shape(input_shape)
        if self.return_state:
            (forward, *forward_states), (backward, *backward_states) = forward, backward
        if self.merge_mode is None:
            output = [forward, backward]
        elif self.merge_mode == "concat":
            last = None if None in (forward[-1], backward[-1]) else forward[-1] + backward[-1]
            output = (*forward[:-1], last)
        else:
            output = forward
        if not self.return_state:
            return output
        merged = output if self.merge_mode is None else [output]
        return [*merged, *forward_states, *backward_states]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            n_states = len(self.forward_layer.states) + len(self.backward_layer.states)
            return masks + [None] * n_states
        return masks if self.merge_mode is None else output_mask

    # -- the call ------------------------------------------------------------------------------
    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        kwargs = {"training": training}
        if mask is not None:
            kwargs["mask"] = mask
        if constants is not None:
            kwargs["constants"] = constants
        forward_kwargs, backward_kwargs = dict(kwargs), dict(kwargs)
        if initial_state is not None:
            forward_kwargs["initial_state"], backward_kwargs["initial_state"] = self._split_states(
                initial_state
            )
        y = self.forward_layer(inputs, **forward_kwargs)
        y_rev = self.backward_layer(inputs, **backward_kwargs)
        if self.return_state:
            (y, *forward_states), (y_rev, *backward_states) = y, y_rev
        if self.return_sequences:
            time_axis = 0 if self.backward_layer.time_major else 1
            flip = (slice(None),) * time_axis + (slice(None, None, -1),)
            y_rev = y_rev[flip]  # back to input order
        if self.merge_mode == "concat":
            output = [mg.concat([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [y + y_rev]
        elif self.merge_mode == "ave":
            output = [(y + y_rev) * 0.5]
        elif self.merge_mode == "mul":
            output = [y * y_rev]
        else:
            output = [y, y_rev]
        if self.return_state:
            return [*output, *forward_states, *backward_states]
        return output[0] if self.merge_mode is not None else output


def _copy(layer, name: str, **overrides):
    """An unbuilt copy of a recurrent layer, made from its config (the cell is copied too)."""
    config = layer.get_config()
    config.update(name=name, **overrides)
    return type(layer).from_config(config)


def _verify_pair(forward, backward) -> None:
    if forward.go_backwards == backward.go_backwards:
        raise ValueError(
            "Forward layer and backward layer should have different `go_backwards` value. "
            f"Received: forward_layer.go_backwards={forward.go_backwards}, "
            f"backward_layer.go_backwards={backward.go_backwards}"
        )
    for attribute in ("stateful", "return_sequences", "return_state", "time_major"):
        f, b = getattr(forward, attribute), getattr(backward, attribute)
        if f != b:
            raise ValueError(
                "Forward layer and backward layer are expected to have the same value for "
                f"attribute `{attribute}`, got {f} for the forward layer and {b} for the "
                "backward layer"
            )
