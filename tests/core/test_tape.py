"""GradientTape semantics, one rule per test."""

import numpy as np
import pytest

import minigrad as mg


def test_nothing_is_recorded_outside_a_tape_or_without_a_watched_input():
    w = mg.Variable([1.0, 2.0])
    _ = mg.tanh(w)  # no tape active
    c = mg.tensor([1.0, 2.0])
    with mg.GradientTape() as tape:
        _ = c * 2.0  # constant input: not recorded
        y = w * c
    assert [r.op for r in tape.records] == ["multiply"]
    assert tape.records[0].inputs == (w, c) and tape.records[0].outputs == (y,)


def test_records_are_in_execution_order_and_carry_nested_scopes():
    x = mg.tensor([1.0])
    with mg.GradientTape() as tape:
        tape.watch(x)
        a = mg.exp(x)
        with mg.name_scope("rnn"):
            with mg.name_scope("t3"):
                b = a * 2.0
            c = b + 1.0
        _ = mg.tanh(c)
    assert [(r.op, r.scope) for r in tape.records] == [
        ("exp", ""),
        ("multiply", "rnn/t3"),
        ("add", "rnn"),
        ("tanh", ""),
    ]
    assert tape.records[1].inputs[0] is a


def test_nested_sources_give_the_same_structure():
    a, b, c = mg.Variable([1.0]), mg.Variable([2.0]), mg.Variable([3.0])
    with mg.GradientTape() as tape:
        y = mg.sum(a * b * c)
    grads = tape.gradient(y, {"ab": [a, (b,)], "c": c})
    assert set(grads) == {"ab", "c"}
    assert isinstance(grads["ab"], list) and isinstance(grads["ab"][1], tuple)
    np.testing.assert_allclose(grads["ab"][0].numpy(), [6.0])
    np.testing.assert_allclose(grads["ab"][1][0].numpy(), [3.0])
    np.testing.assert_allclose(grads["c"].numpy(), [2.0])


def test_unconnected_sources_give_none_or_zeros():
    a, b = mg.Variable([1.0, 2.0]), mg.Variable([[5.0]])
    with mg.GradientTape(persistent=True) as tape:
        y = mg.sum(a * 3.0)
    assert tape.gradient(y, [a, b])[1] is None
    zeros = tape.gradient(y, b, unconnected_gradients="zero")
    assert zeros.shape == (1, 1) and zeros.dtype == np.float32 and not zeros.numpy().any()


def test_stop_gradient_blocks_the_path():
    a = mg.Variable([2.0])
    with mg.GradientTape() as tape:
        y = mg.stop_gradient(a * a) * a
    np.testing.assert_allclose(tape.gradient(y, a).numpy(), [4.0])  # only the direct use
    with mg.GradientTape() as tape:
        z = mg.stop_gradient(a) * 3.0
    assert tape.gradient(z, a) is None


def test_a_used_non_persistent_tape_raises_and_a_persistent_one_does_not():
    a = mg.Variable([2.0])
    with mg.GradientTape() as tape:
        y = a * a
    tape.gradient(y, a)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, a)
    with mg.GradientTape(persistent=True) as tape:
        y = a * a
    for _ in range(2):
        np.testing.assert_allclose(tape.gradient(y, a).numpy(), [4.0])


def test_a_weight_used_many_times_accumulates():
    w = mg.Variable(np.array([[0.5, -0.2], [0.1, 0.3]]), dtype="float64")
    x = np.array([[1.0, 2.0]])
    with mg.GradientTape() as tape:
        h = mg.tensor(x)
        for _ in range(4):
            h = h @ w
        loss = mg.sum(h)
    grad = tape.gradient(loss, w).numpy()
    eps, numeric = 1e-6, np.zeros((2, 2))
    for idx in np.ndindex(2, 2):
        for sign in (1, -1):
            v = w.numpy().copy()
            v[idx] += sign * eps
            numeric[idx] += sign * (x @ v @ v @ v @ v).sum() / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-7)


def test_non_scalar_target_is_summed_unless_output_gradients_given():
    a = mg.Variable([1.0, 2.0, 3.0])
    with mg.GradientTape(persistent=True) as tape:
        y = a * a
    np.testing.assert_allclose(tape.gradient(y, a).numpy(), [2.0, 4.0, 6.0])
    weighted = tape.gradient(y, a, output_gradients=np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(weighted.numpy(), [2.0, 0.0, -6.0])
    with pytest.raises(ValueError, match="does not match target shape"):
        tape.gradient(y, a, output_gradients=np.ones(2))


def test_gradients_with_respect_to_intermediate_tensors():
    w = mg.Variable([1.5])
    with mg.GradientTape() as tape:
        h = w * 2.0
        y = mg.sum(h * h)
    gh, gw = tape.gradient(y, [h, w])
    np.testing.assert_allclose(gh.numpy(), [6.0])
    np.testing.assert_allclose(gw.numpy(), [12.0])


def test_target_that_is_a_source_and_a_list_target():
    a, b = mg.Variable([1.0]), mg.Variable([2.0])
    with mg.GradientTape(persistent=True) as tape:
        y = a * b
    np.testing.assert_allclose(tape.gradient(a, a).numpy(), [1.0])
    np.testing.assert_allclose(tape.gradient([y, y], a).numpy(), [4.0])


def test_watch_and_non_trainable_variables():
    frozen = mg.Variable([1.0], trainable=False)
    with mg.GradientTape() as tape:
        y = frozen * 2.0
    assert tape.records == [] and tape.gradient(y, frozen) is None
    with mg.GradientTape() as tape:
        tape.watch([frozen])
        y = frozen * 2.0
    np.testing.assert_allclose(tape.gradient(y, frozen).numpy(), [2.0])
    with pytest.raises(TypeError, match="ndarray"):
        mg.GradientTape().watch(np.ones(2))


def test_nested_tapes_both_record():
    x = mg.Variable([3.0])
    with mg.GradientTape() as outer, mg.GradientTape() as inner:
        y = x * x
    assert len(outer.records) == len(inner.records) == 1
    np.testing.assert_allclose(inner.gradient(y, x).numpy(), [6.0])
    np.testing.assert_allclose(outer.gradient(y, x).numpy(), [6.0])


def test_float32_stays_float32_in_gradients():
    w = mg.Variable(np.ones((3, 2), dtype=np.float32))
    x = mg.tensor(np.ones((4, 3), dtype=np.float32))
    with mg.GradientTape() as tape:
        loss = mg.mean(mg.sigmoid(x @ w) * 0.5 + 1)
    grad = tape.gradient(loss, w)
    assert loss.dtype == np.float32 and grad.dtype == np.float32


def test_broadcast_gradient_is_summed_back_to_the_input_shape():
    bias = mg.Variable(np.zeros(3), dtype="float64")
    scale = mg.Variable(np.ones((1, 3)), dtype="float64")
    with mg.GradientTape() as tape:
        y = (mg.tensor(np.ones((4, 2, 3)), dtype="float64") + bias) * scale
        loss = mg.sum(y)
    gb, gs = tape.gradient(loss, [bias, scale])
    assert gb.shape == (3,) and gs.shape == (1, 3)
    np.testing.assert_allclose(gb.numpy(), [8.0, 8.0, 8.0])


def test_nest_is_public_and_checks_structures():
    assert mg.nest.flatten({"b": [1, 2], "a": 0}) == [0, 1, 2]
    assert mg.nest.pack_sequence_as({"b": [0, 0], "a": 0}, [5, 6, 7]) == {"a": 5, "b": [6, 7]}
    assert mg.nest.map_structure(lambda a, b: a * b, (1, [2]), (3, [4])) == (3, [8])
    with pytest.raises(ValueError, match="2 leaves, but the flat sequence has 3"):
        mg.nest.pack_sequence_as([0, 0], [1, 2, 3])
    with pytest.raises(ValueError, match="nested alike"):
        mg.nest.map_structure(lambda a, b: a, [1, 2], [1])


def test_a_call_with_invalid_arguments_does_not_use_up_the_tape():
    a = mg.Variable([2.0])
    with mg.GradientTape() as tape:
        y = a * a
    with pytest.raises(TypeError, match="sources must be Tensors, received ndarray"):
        tape.gradient(y, [a, np.ones(1)])
    with pytest.raises(TypeError, match="target must be a Tensor, received ndarray"):
        tape.gradient(np.ones(1), a)
    with pytest.raises(ValueError, match="does not match target shape"):
        tape.gradient(y, a, output_gradients=np.ones(3))
    np.testing.assert_allclose(tape.gradient(y, a).numpy(), [4.0])  # still unused
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, a)


class NamedVariable(mg.Variable):
    """A Variable subclass: still a Variable to the tape."""

    __slots__ = ()


def test_a_trainable_variable_subclass_is_watched_automatically():
    w = NamedVariable([3.0])
    frozen = NamedVariable([3.0], trainable=False)
    with mg.GradientTape() as tape:
        y = w * w + frozen
    assert [r.op for r in tape.records] == ["multiply", "add"]
    assert tape.records[1].needs_grad == (True, False)
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), [6.0])


def test_is_recording_tells_whether_a_tape_is_active():
    assert not mg.tape.is_recording()
    with mg.GradientTape():
        assert mg.tape.is_recording()
        with mg.GradientTape():
            assert mg.tape.is_recording()
    assert not mg.tape.is_recording()


def test_an_outer_tape_refuses_to_differentiate_an_inner_gradient():
    """d/dx (d/dx x**3) at 3 would be 18: second order is not supported, and says so."""
    x = mg.Variable([3.0], dtype="float64")
    with mg.GradientTape(persistent=True) as outer:
        with mg.GradientTape() as inner:
            y = x**3
        g = inner.gradient(y, x)
        np.testing.assert_allclose(g.numpy(), [27.0])  # first order, inside the outer tape
        z = mg.sum(g * x)
    message = "higher-order gradients are not supported.*inner GradientTape.gradient"
    with pytest.raises(ValueError, match=message):
        outer.gradient(g, x)  # the target is an inner gradient
    with pytest.raises(ValueError, match=message):
        outer.gradient(z, x)  # the sweep reaches one


def test_first_order_work_inside_an_outer_tape_keeps_working():
    x = mg.Variable([3.0], dtype="float64")
    with mg.GradientTape() as outer:
        with mg.GradientTape() as inner:
            y = x**3
        g = inner.gradient(y, x)
        z = mg.sum(mg.stop_gradient(g) * x) + mg.sum(y)  # 27 x + x**3
    np.testing.assert_allclose(outer.gradient(z, x).numpy(), [27.0 + 27.0])
