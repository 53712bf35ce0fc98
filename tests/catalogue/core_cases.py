"""Bad inputs to the core engine: tensors, dtypes, ops, tapes and gradcheck."""

import contextlib

import numpy as np

import minigrad as mg
from catalogue.case import Case
from minigrad import thread_pool


def _gradient_after_a_bad_call():
    """A call with an invalid source does not use the tape up: the next call answers, and only
    the one after it is refused."""
    x = mg.Variable([2.0])
    with mg.GradientTape() as tape:
        y = x * x
    with contextlib.suppress(TypeError):
        tape.gradient(y, [x, np.ones(1)])
    try:
        tape.gradient(y, x)
    except RuntimeError as err:
        raise AssertionError("the invalid call used the tape up") from err
    tape.gradient(y, x)


def _inner_gradient(target_is_the_gradient: bool):
    """d/dx (d/dx x**3) under an outer tape: second order, which is refused."""
    x = mg.Variable([3.0], dtype="float64")
    with mg.GradientTape() as outer:
        with mg.GradientTape() as inner:
            y = x**3
        g = inner.gradient(y, x)
        z = mg.sum(g * x)
    outer.gradient(g if target_is_the_gradient else z, x)


def _tape_gradient(sources=None, **kwargs):
    x = mg.Variable([1.0])
    with mg.GradientTape() as tape:
        y = x * 2.0
    tape.gradient(y, x if sources is None else sources(x), **kwargs)


HIGHER_ORDER = ("higher-order gradients are not supported", "inner gradienttape.gradient")

CASES = [
    # -- tensors and dtypes ---------------------------------------------------------------------
    Case(
        "tensor of strings",
        lambda: mg.tensor(["a", "b"]),
        TypeError,
        ("<U1", "numeric data (float, int or bool)"),
    ),
    Case(
        "Variable assigned a value of another shape",
        lambda: mg.Variable(np.zeros((2, 2)), name="w").assign(np.ones(3)),
        ValueError,
        ("(3,)", "'w'", "(2, 2)"),
    ),
    Case(
        "unknown dtype name",
        lambda: mg.tensor([1.0], dtype="float16x"),
        TypeError,
        ("'float16x'", "'float32'"),
    ),
    Case(
        "set_floatx to an integer dtype",
        lambda: mg.set_floatx("int32"),
        ValueError,
        ("'int32'", "['float32', 'float64']"),
    ),
    Case(
        "float32 and float64 Tensors combined",
        lambda: mg.tensor([1.0]) + mg.tensor([1.0], dtype="float64"),
        TypeError,
        ("float32 and float64", "mg.cast"),
    ),
    Case(
        "tanh of an integer Tensor",
        lambda: mg.tanh(mg.tensor([1, 2])),
        TypeError,
        ("mg.tanh", "int64", "float tensor"),
    ),
    Case(
        "item of a three-element Tensor",
        lambda: mg.ones(3).item(),
        ValueError,
        ("(3,)", "one-element"),
    ),
    Case(
        "len of a 0-d Tensor",
        lambda: len(mg.tensor(1.0)),
        TypeError,
        ("0-d", "at least 1 axis"),
    ),
    # -- ops ------------------------------------------------------------------------------------
    Case(
        "matmul of mismatched inner axes",
        lambda: mg.matmul(mg.tensor(np.ones((2, 3))), mg.tensor(np.ones((4, 5)))),
        ValueError,
        ("(2, 3)", "(4, 5)"),
    ),
    Case(
        "matmul of a 0-d Tensor",
        lambda: mg.matmul(mg.tensor(2.0), mg.ones(2)),
        ValueError,
        ("()", "(2,)", "at least 1 dimension"),
    ),
    Case(
        "add of shapes that do not broadcast",
        lambda: mg.add(mg.ones((2, 3)), mg.ones(4)),
        ValueError,
        ("mg.add", "(2, 3) and (4,)", "broadcastable"),
    ),
    Case(
        "integer Tensor to a negative integer power",
        lambda: mg.tensor([2, 3]) ** -1,
        ValueError,
        ("mg.power", "int64 (2,)", "integers to negative integer powers"),
    ),
    Case(
        "subtract of boolean Tensors",
        lambda: mg.subtract(mg.tensor([True]), mg.tensor([False])),
        TypeError,
        ("mg.subtract", "bool (1,)", "boolean subtract"),
    ),
    Case(
        "where with a branch that does not broadcast",
        lambda: mg.where(mg.ones(3) > 0, mg.ones(2), mg.ones(3)),
        ValueError,
        ("mg.where", "(3,), (2,) and (3,)", "broadcastable"),
    ),
    Case(
        "sum of a 0-d Tensor over axis 0",
        lambda: mg.sum(mg.tensor(1.0), axis=0),
        ValueError,
        ("mg.sum", "axis 0", "ndim 0", "axis=none"),
    ),
    Case(
        "squeeze of a 0-d Tensor over axis 0",
        lambda: mg.squeeze(mg.tensor(1.0), axis=0),
        ValueError,
        ("mg.squeeze", "axis 0", "ndim 0"),
    ),
    Case(
        "mean over an axis named twice",
        lambda: mg.mean(mg.ones((2, 3)), axis=(1, -1)),
        ValueError,
        ("mg.mean", "(1, -1)", "twice", "ndim 2"),
    ),
    Case(
        "max over a float axis",
        lambda: mg.max(mg.ones(3), axis=1.5),
        TypeError,
        ("mg.max", "1.5", "an int or a tuple of ints"),
    ),
    Case(
        "reshape to a different number of elements",
        lambda: mg.reshape(mg.ones((2, 3)), (4, 2)),
        ValueError,
        ("(2, 3)", "6 elements", "(4, 2)"),
    ),
    Case(
        "einsum with a letter of two sizes",
        lambda: mg.einsum("ij,jk", mg.ones((2, 3)), mg.ones((4, 5))),
        ValueError,
        ("'ij,jk'", "'j' has size 3 in operand 0 but size 4 in operand 1", "equal sizes"),
    ),
    Case(
        "einsum with fewer terms than operands",
        lambda: mg.einsum("ij", mg.ones((2, 3)), mg.ones(3)),
        ValueError,
        ("1 operand term(s)", "2 operand(s) were given"),
    ),
    Case(
        "einsum term with more letters than dims",
        lambda: mg.einsum("ijk", mg.ones((2, 3))),
        ValueError,
        ("operand 0 has 2 dims", "'ijk' names 3", "expected 2 letters"),
    ),
    Case(
        "einsum output letter that no operand has",
        lambda: mg.einsum("ij->ik", mg.ones((2, 3))),
        ValueError,
        ("'ij->ik'", "output letter 'k'", "not in any operand's term"),
    ),
    Case(
        "einsum subscripts that are not a string",
        lambda: mg.einsum(3, mg.ones(3)),
        TypeError,
        ("subscripts string", "received int"),
    ),
    Case(
        "cumsum over an axis out of range",
        lambda: mg.cumsum(mg.ones((2, 3)), axis=2),
        ValueError,
        ("mg.cumsum", "axis 2", "ndim 2", "[-2, 1]"),
    ),
    Case(
        "cumsum over a tuple of axes",
        lambda: mg.cumsum(mg.ones((2, 3)), axis=(0,)),
        TypeError,
        ("mg.cumsum", "(0,)", "an int or none"),
    ),
    Case(
        "argmax of an empty Tensor",
        lambda: mg.argmax(mg.ones((0, 3))),
        ValueError,
        ("mg.argmax", "(0, 3)", "at least one entry"),
    ),
    # -- tapes ----------------------------------------------------------------------------------
    Case(
        "gradient with a numpy array among the sources",
        lambda: _tape_gradient(sources=lambda x: [x, np.ones(1)]),
        TypeError,
        ("sources must be tensors", "ndarray"),
    ),
    Case(
        "a non-persistent tape answers once, a bad call not counted",
        _gradient_after_a_bad_call,
        RuntimeError,
        ("one set of gradients", "persistent=true"),
    ),
    Case(
        "outer tape through an inner gradient",
        lambda: _inner_gradient(target_is_the_gradient=False),
        ValueError,
        HIGHER_ORDER,
    ),
    Case(
        "outer tape with an inner gradient as target",
        lambda: _inner_gradient(target_is_the_gradient=True),
        ValueError,
        (*HIGHER_ORDER, "shape (1,)"),
    ),
    Case(
        "watch of a numpy array",
        lambda: mg.GradientTape().watch(np.ones(2)),
        TypeError,
        ("ndarray", "minigrad tensor"),
    ),
    Case(
        "unknown unconnected_gradients",
        lambda: _tape_gradient(unconnected_gradients="zeros"),
        ValueError,
        ("'zeros'", "'none' or 'zero'"),
    ),
    Case(
        "output_gradients of another shape than the target",
        lambda: _tape_gradient(output_gradients=np.ones(3)),
        ValueError,
        ("(3,)", "target shape (1,)"),
    ),
    # -- gradcheck ------------------------------------------------------------------------------
    Case(
        "gradcheck of a function with a non-scalar result",
        lambda: mg.gradcheck(lambda x: x * 2, [[1.0, 2.0]]),
        ValueError,
        ("scalar tensor", "(2,)"),
    ),
    Case(
        "gradcheck inputs given as one array",
        lambda: mg.gradcheck(mg.sum, np.ones(2)),
        TypeError,
        ("a list of inputs", "ndarray"),
    ),
    Case(
        "gradcheck of a wrong gradient",
        lambda: mg.gradcheck(lambda x: mg.sum(mg.stop_gradient(x) * x), [[1.0, 2.0]]),
        AssertionError,
        ("input 0 at index (1,)", "tape gradient", "finite difference"),
    ),
    Case(
        "thread pool given zero threads",
        lambda: thread_pool.set_num_threads(0),
        ValueError,
        ("integer >= 1", "0"),
    ),
]
