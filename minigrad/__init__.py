"""minigrad: a small tape-based autodiff engine on numpy arrays, with Numba kernels.

Read in this order: ``tensor.py`` (the data), ``tape.py`` (recording and the reverse sweep),
``ops.py`` (each primitive followed by its gradient rule), ``kernels.py`` (the loops), then
``binary_kernels.py``, ``matmul_kernels.py`` (register tiles), ``approximations.py`` (float32
tanh and sigmoid) and ``thread_pool.py`` (rows shared among threads); then ``recurrent.py``
(whole-sequence RNN ops with hand-written BPTT) and ``recurrent_kernels.py``.

>>> import minigrad as mg
>>> w = mg.Variable([[0.5]])
>>> with mg.GradientTape() as tape:
...     loss = mg.sum(mg.tanh(mg.tensor([[2.0]]) @ w))
>>> round(float(tape.gradient(loss, w)[0, 0]), 4)
0.8399
"""

# ruff: noqa: I001  (tensor first: it loads ops, which loads tape, in dependency order)
from minigrad.tensor import Tensor, Variable, tensor
from minigrad import nest, random
from minigrad.checkpoint import checkpoint
from minigrad import compile_notice  # noqa: F401  (prints one line at the first compilation)
from minigrad.dtypes import floatx, set_floatx
from minigrad.gradcheck import GradcheckReport, gradcheck
from minigrad.ops import (
    abs,
    add,
    argmax,
    cast,
    clip,
    concat,
    cumsum,
    divide,
    dot,
    equal,
    exp,
    expand_dims,
    getitem,
    greater,
    greater_equal,
    identity,
    less,
    less_equal,
    log,
    log_softmax,
    matmul,
    max,
    maximum,
    mean,
    minimum,
    multiply,
    negative,
    not_equal,
    one_hot,
    ones,
    ones_like,
    power,
    relu,
    reshape,
    sigmoid,
    softmax,
    split,
    sqrt,
    squeeze,
    stack,
    stop_gradient,
    subtract,
    sum,
    tanh,
    transpose,
    unstack,
    where,
    zeros,
    zeros_like,
)
from minigrad.einsum_op import einsum
from minigrad.recurrent import gru_sequence, lstm_sequence, simple_rnn_sequence
from minigrad.tape import GradientTape, Record, name_scope

__all__ = [
    "GradcheckReport",
    "GradientTape",
    "Record",
    "Tensor",
    "Variable",
    "abs",
    "add",
    "argmax",
    "cast",
    "checkpoint",
    "clip",
    "concat",
    "cumsum",
    "divide",
    "dot",
    "einsum",
    "equal",
    "exp",
    "expand_dims",
    "floatx",
    "getitem",
    "gradcheck",
    "greater",
    "greater_equal",
    "gru_sequence",
    "identity",
    "less",
    "less_equal",
    "log",
    "log_softmax",
    "lstm_sequence",
    "matmul",
    "max",
    "maximum",
    "mean",
    "minimum",
    "multiply",
    "name_scope",
    "negative",
    "nest",
    "not_equal",
    "one_hot",
    "ones",
    "ones_like",
    "power",
    "random",
    "relu",
    "reshape",
    "set_floatx",
    "sigmoid",
    "simple_rnn_sequence",
    "softmax",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "stop_gradient",
    "subtract",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "unstack",
    "where",
    "zeros",
    "zeros_like",
]
