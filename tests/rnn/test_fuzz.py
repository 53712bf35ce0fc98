"""Property-based fuzzing of recurrent-layer configurations, in float64.

Hypothesis draws a configuration: the cells (SimpleRNN, LSTM, GRU with ``reset_after`` True or
False; one cell, or ``RNN`` over a list of cells, i.e. ``StackedRNNCells``; either of them
inside ``Bidirectional`` with any ``merge_mode``), ``return_sequences``, ``return_state``,
``go_backwards``, ``time_major``, ``truncate_gradient``, ``checkpoint_every`` (when not
truncating: the same numbers, so the reference ignores it), ``zero_output_for_mask``,
``stateful`` (then two consecutive calls, the second starting from the kept states), masks with
holes and fully masked rows, given or default initial states, and tiny sizes (batch <= 3,
time <= 5, units <= 4). Every configuration runs three ways:

* the fused path (``unroll=False``; without ``checkpoint_every``, whose segments the tape
  records as ``checkpoint`` ops, the test checks that the ``*_sequence`` ops really ran, one per
  single-cell layer: a stack of cells has no fused path and runs the per-step loop),
* the per-step loop (``unroll=True``),
* the numpy reference of ``fuzz_reference.py``, built on ``minigrad/recurrent_reference.py``
  (forward loops and hand-written BPTT), which covers every configuration drawn here,

and all three agree to 1e-10 on every output, every returned and kept state, and the gradients
of a random linear loss of the outputs with respect to the input, the given initial states and
every weight. The reference's own gradients are checked against finite differences (without
truncation, which finite differences cannot see). The examples are derandomized and no example
database is used, so a run draws the same examples on every machine.
"""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_reference import N_STATES, bidirectional, rnn_layer
from hypothesis import example, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad_layers as mgl
from minigrad.nest import flatten

KINDS = list(N_STATES)
SEQUENCE_OPS = {"simple_rnn_sequence", "lstm_sequence", "gru_sequence"}
LAYERS = {
    "simple_rnn": mgl.SimpleRNN,
    "lstm": mgl.LSTM,
    "gru": lambda units, **kw: mgl.GRU(units, reset_after=True, **kw),
    "gru_reset_before": lambda units, **kw: mgl.GRU(units, reset_after=False, **kw),
}
CELLS = {
    "simple_rnn": mgl.SimpleRNNCell,
    "lstm": mgl.LSTMCell,
    "gru": lambda units: mgl.GRUCell(units, reset_after=True),
    "gru_reset_before": lambda units: mgl.GRUCell(units, reset_after=False),
}
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")


# -------------------------------------------------------------------------------------------------
# configurations
# -------------------------------------------------------------------------------------------------


def _row(steps: int, start: int, stop: int, hole: int) -> list[bool]:
    """Steps ``start <= t < stop`` kept, except ``hole`` (-1: none)."""
    return [start <= t < stop and t != hole for t in range(steps)]


def masks(batch: int, steps: int):
    """None, or a ``(batch, steps)`` mask whose rows are each padded on the left and the right
    (empty when nothing is left), with a hole or not, or anything."""
    padded = st.builds(
        _row, st.just(steps), st.integers(0, steps), st.integers(0, steps), st.integers(-1, steps)
    )
    anything = st.lists(st.booleans(), min_size=steps, max_size=steps)
    rows = st.lists(padded | anything, min_size=batch, max_size=batch).map(np.array)
    return st.one_of(st.none(), rows, rows)


@st.composite
def configurations(draw, structure: str) -> dict:
    """A layer configuration and its data; ``structure`` is ``"single"`` (one cell),
    ``"stacked"`` (a list of 1 to 3 cells) or ``"bidirectional"`` (one or two cells)."""
    max_cells = {"single": 1, "stacked": 3, "bidirectional": 2}[structure]
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=max_cells))
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    stateful = draw(st.booleans())
    options = {
        "return_sequences": draw(st.booleans()),
        "return_state": draw(st.booleans()),
        "go_backwards": draw(st.booleans()),
        "time_major": draw(st.booleans()),
        "truncate_gradient": None,
        "checkpoint_every": None,
        "zero_output_for_mask": structure != "bidirectional" and draw(st.booleans()),
    }
    backpropagation = draw(st.sampled_from(["full", "truncate_gradient", "checkpoint_every"]))
    if backpropagation != "full":  # the two cannot be combined
        options[backpropagation] = draw(st.integers(1, steps))
    return {
        "kinds": kinds,
        "units": [draw(st.integers(1, 4)) for _ in kinds],
        "features": draw(st.integers(1, 3)),
        "stacked": structure == "stacked" or len(kinds) > 1,
        "merge_mode": (
            draw(st.sampled_from(["concat", "sum", "ave", "mul", None]))
            if structure == "bidirectional"
            else "no wrapper"
        ),
        "options": options,
        "stateful": stateful,
        "batch": batch,
        "steps": steps,
        "masks": [draw(masks(batch, steps)) for _ in range(2 if stateful else 1)],
        "given_state": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def make_layer(config: dict, unroll: bool):
    """The layer of ``config``: its fused (``unroll=False``) or per-step (``True``) version."""
    kwargs = {**config["options"], "stateful": config["stateful"], "unroll": unroll}
    kinds, units = config["kinds"], config["units"]
    if config["stacked"]:
        layer = mgl.RNN([CELLS[k](u) for k, u in zip(kinds, units, strict=True)], **kwargs)
    else:
        layer = LAYERS[kinds[0]](units[0], **kwargs)
    if config["merge_mode"] != "no wrapper":
        layer = mgl.Bidirectional(layer, merge_mode=config["merge_mode"])
    return layer


def state_shapes(config: dict) -> list[tuple]:
    """The shapes of the layer's flat states (both directions for ``Bidirectional``)."""
    shapes = [
        (config["batch"], u)
        for k, u in zip(config["kinds"], config["units"], strict=True)
        for _ in range(N_STATES[k])
    ]
    return shapes * (2 if config["merge_mode"] != "no wrapper" else 1)


def nested_states(config: dict, flat: list) -> list:
    """``initial_state`` as the layer takes it: flat, except for a stack of cells (outside
    ``Bidirectional``), which takes one entry per cell, a list for an LSTM cell."""
    if not config["stacked"] or config["merge_mode"] != "no wrapper":
        return flat
    nested, rest = [], list(flat)
    for kind in config["kinds"]:
        n = N_STATES[kind]
        nested.append(rest[:n] if n > 1 else rest[0])
        rest = rest[n:]
    return nested


def reference(config: dict, x, states, weights, mask):
    """``(outputs, finals, vjp)`` of the numpy reference (see ``fuzz_reference.py``)."""
    args = (config["kinds"], x, states, weights, mask, config["options"])
    if config["merge_mode"] == "no wrapper":
        return rnn_layer(*args)
    return bidirectional(*args, config["merge_mode"])


# -------------------------------------------------------------------------------------------------
# running and comparing
# -------------------------------------------------------------------------------------------------


def run(layer, config, x, mask, states, cotangents):
    """One call under a tape: ``(outputs, gradients, number of *_sequence records)``, the
    gradients of ``sum_i sum(outputs[i] * cotangents[i])`` with respect to ``x``, the given
    ``states`` and the layer's weights."""
    x, states = mg.tensor(x), [mg.tensor(s) for s in states]
    kwargs = {} if mask is None else {"mask": mask}
    if states:
        kwargs["initial_state"] = nested_states(config, states)
    with mg.GradientTape() as tape:
        tape.watch([x, *states])
        outputs = flatten(layer(x, **kwargs))
        assert [o.shape for o in outputs] == [c.shape for c in cotangents]
        loss = sum(mg.sum(o * c) for o, c in zip(outputs, cotangents, strict=True))
    grads = tape.gradient(loss, [x, *states, *layer.weights], unconnected_gradients="zero")
    fused_ops = sum(r.op in SEQUENCE_OPS for r in tape.records)
    return [o.numpy() for o in outputs], [g.numpy() for g in grads], fused_ops


def assert_close(got: list, expected: list, what: str) -> None:
    assert len(got) == len(expected), what
    for i, (a, b) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"{what} {i}")


def check_configuration(config: dict) -> None:
    """Build the fused and the per-step layer with the same random weights; run them (twice
    when stateful) and compare both with the reference."""
    rng = np.random.default_rng(config["seed"])
    batch, steps, features = config["batch"], config["steps"], config["features"]
    x_shape = (batch, steps, features)
    if config["options"]["time_major"]:
        x_shape = (steps, batch, features)
    inputs = [rng.normal(size=x_shape) for _ in config["masks"]]
    layers = {"fused": make_layer(config, False), "per-step": make_layer(config, True)}
    for layer in layers.values():
        layer.build(x_shape)
    weights = [0.5 * rng.normal(size=w.shape) for w in layers["fused"].get_weights()]
    for layer in layers.values():
        layer.set_weights(weights)
    bidirectional_wrapper = config["merge_mode"] != "no wrapper"
    single_cell_layers = 0 if config["stacked"] else 2 if bidirectional_wrapper else 1
    shapes = state_shapes(config)
    given = [rng.normal(size=s) for s in shapes] if config["given_state"] else []
    states = given or [np.zeros(s) for s in shapes]
    for call, (x, mask) in enumerate(zip(inputs, config["masks"], strict=True)):
        outputs, finals, vjp = reference(config, x, states, weights, mask)
        cotangents = [rng.normal(size=o.shape) for o in outputs]
        dx, d_states, d_weights = vjp(cotangents)
        expected_grads = [dx, *(d_states if given else []), *d_weights]
        for path, layer in layers.items():
            got, grads, fused_ops = run(layer, config, x, mask, given, cotangents)
            if config["options"]["checkpoint_every"] is None:  # else inside checkpoint records
                assert fused_ops == (single_cell_layers if path == "fused" else 0), path
            assert_close(got, outputs, f"{path} call {call}: output")
            assert_close(grads, expected_grads, f"{path} call {call}: gradient")
            if config["stateful"]:
                assert_close([s.numpy() for s in flatten(layer.states)], finals, f"{path} kept")
        states, given = finals, []  # a stateful layer's next call starts from the kept states


# A segment seam of checkpoint_every under go_backwards: in processing order the second segment
# (input steps 1, 0) starts with a masked step after a kept one, so its output is carried over.
SEAM = {
    "kinds": ["lstm"],
    "units": [2],
    "features": 2,
    "stacked": False,
    "merge_mode": "no wrapper",
    "options": {
        "return_sequences": True,
        "return_state": True,
        "go_backwards": True,
        "time_major": False,
        "truncate_gradient": None,
        "checkpoint_every": 2,
        "zero_output_for_mask": False,
    },
    "stateful": False,
    "batch": 1,
    "steps": 4,
    "masks": [np.array([[True, False, True, True]])],
    "given_state": True,
    "seed": 0,
}


@FUZZ
@given(configurations("single"))
@example(SEAM)
def test_single_cell_layers(config):
    check_configuration(config)


@FUZZ
@given(configurations("stacked"))
def test_stacked_cells(config):
    check_configuration(config)


@FUZZ
@given(configurations("bidirectional"))
def test_bidirectional(config):
    check_configuration(config)


def _untruncated(structure: str):
    """Configurations of ``structure`` without ``truncate_gradient`` (which finite differences
    cannot see: they differentiate the untruncated function)."""
    return configurations(structure).map(
        lambda c: {**c, "options": {**c["options"], "truncate_gradient": None}}
    )


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(["single", "stacked", "bidirectional"]).flatmap(_untruncated))
def test_the_reference_gradients_match_finite_differences(config):
    """The reference's own BPTT (stacking, reversal, merges and all) against central
    differences of its forward pass, along random directions of every argument at once."""
    rng = np.random.default_rng(config["seed"])
    layer = make_layer(config, unroll=False)
    x_shape = (config["batch"], config["steps"], config["features"])
    if config["options"]["time_major"]:
        x_shape = x_shape[1], x_shape[0], x_shape[2]
    layer.build(x_shape)
    shapes = [x_shape, *state_shapes(config), *(w.shape for w in layer.get_weights())]
    point = [rng.normal(size=s) for s in shapes]
    mask, n_states = config["masks"][0], len(state_shapes(config))

    def outputs_at(arrays):
        x, states, weights = arrays[0], arrays[1 : 1 + n_states], arrays[1 + n_states :]
        return reference(config, x, states, weights, mask)

    outputs, _, vjp = outputs_at(point)
    cotangents = [rng.normal(size=o.shape) for o in outputs]
    dx, d_states, d_weights = vjp(cotangents)
    gradient = [dx, *d_states, *d_weights]

    def loss(arrays):
        return sum(np.sum(o * c) for o, c in zip(outputs_at(arrays)[0], cotangents, strict=True))

    eps = 1e-6
    for _ in range(3):
        direction = [rng.normal(size=s) for s in shapes]
        up = loss([p + eps * d for p, d in zip(point, direction, strict=True)])
        down = loss([p - eps * d for p, d in zip(point, direction, strict=True)])
        expected = sum(np.sum(g * d) for g, d in zip(gradient, direction, strict=True))
        np.testing.assert_allclose((up - down) / (2 * eps), expected, rtol=1e-6, atol=1e-8)
