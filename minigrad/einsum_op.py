"""``mg.einsum``: Einstein summation, one primitive op, with its gradient rule written as einsums.

``einsum("ij,jk->ik", A, B)`` names each axis of each operand by a letter; the output keeps the
letters after ``->`` and sums over all the others::

    out[i, k] = sum_j A[i, j] B[j, k]

Without ``->`` (implicit form) the output is every letter that appears exactly once, in
alphabetical order. ``...`` stands for the leading (or any run of) axes not named by letters,
broadcast across operands like numpy does, and is kept in front of the implicit output.

Before anything else the subscripts are made explicit: ``...`` becomes fresh letters (operand i
gets the last ones, as broadcasting aligns shapes on the right) and the implicit output is spelled
out. The gradient rule then is one einsum per operand: for ``out = einsum(s_1, ..., s_n -> s_out)``,

    dL/dx_i = einsum(s_out, s_1, ..., (not s_i), ..., s_n -> s_i)(g, x_1, ..., x_n)

(the sum of g times the other operands over every letter that x_i does not have). Two details:
a letter repeated within ``s_i`` (a diagonal, ``"ii->i"``) is renamed and tied to its twin by an
identity matrix, so that the gradient lands on the diagonal; a letter found only in ``s_i`` (a
sum within x_i, ``"ij->i"``) is broadcast back. Letters of size 1 broadcast against larger ones
as in numpy, and the tape sums those gradients back (``tape.unbroadcast``).

>>> import minigrad as mg
>>> mg.einsum("ij,jk->ik", mg.ones((2, 3)), mg.ones((3, 4))).shape
(2, 4)
>>> mg.einsum("ii", mg.tensor([[1.0, 2.0], [3.0, 4.0]])).numpy()  # the trace
array(5., dtype=float32)
"""

from __future__ import annotations

import string

import numpy as np

from minigrad.ops import cast
from minigrad.tape import gradient_rule, is_recording, record
from minigrad.tensor import Tensor, as_tensor

_LETTERS = string.ascii_letters


def _error(subscripts: str, problem: str) -> ValueError:
    return ValueError(f"mg.einsum: subscripts {subscripts!r}: {problem}")


def _split_term(term: str, ndim: int, index: int, subscripts: str) -> tuple[str, str, int]:
    """One operand's term as (letters before '...', letters after, how many axes '...' covers)."""
    if term.count("...") > 1 or "." in term.replace("...", "", 1):
        raise _error(
            subscripts,
            f"operand {index}'s term {term!r} has a stray '.'; expected "
            "letters and at most one '...'",
        )
    head, ellipsis, tail = term.partition("...")
    bad = [c for c in head + tail if c not in _LETTERS]
    if bad:
        raise _error(subscripts, f"{bad[0]!r} is not a subscript; expected letters a-z, A-Z")
    named = len(head) + len(tail)
    if named > ndim or (not ellipsis and named != ndim):
        expected = f"at most {ndim} letters and '...'" if ellipsis else f"{ndim} letters"
        raise _error(
            subscripts,
            f"operand {index} has {ndim} dims but its term {term!r} names "
            f"{named}; expected {expected}",
        )
    return head, tail, ndim - named


def explicit_subscripts(subscripts: str, shapes: list[tuple]) -> tuple[list[str], str]:
    """The terms of ``subscripts`` with ``...`` replaced by letters, and the explicit output.

    >>> explicit_subscripts("...ij,jk", [(5, 2, 3), (3, 4)])
    (['aij', 'jk'], 'aik')
    """
    if not isinstance(subscripts, str):
        raise TypeError(
            f"mg.einsum expects a subscripts string, received {type(subscripts).__name__}"
        )
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1:
        raise _error(subscripts, "'->' appears more than once; expected 'inputs->output'")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise _error(
            subscripts,
            f"it has {len(terms)} operand term(s), but {len(shapes)} operand(s) were given",
        )
    parts = [_split_term(t, len(shapes[i]), i, subscripts) for i, t in enumerate(terms)]
    width = max([n for _, _, n in parts], default=0)  # axes covered by '...' after broadcasting
    fresh = [c for c in _LETTERS if c not in spec][:width]
    inputs = [head + "".join(fresh[width - n :]) + tail for head, tail, n in parts]
    if not arrow:
        letters = "".join(inputs)
        once = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in fresh)
        return inputs, "".join(fresh) + "".join(once)
    if width and "..." not in rhs:
        raise _error(subscripts, "the operands use '...', so the output must keep it too")
    head, _, tail = rhs.partition("...") if "..." in rhs else (rhs, "", "")
    if "." in head + tail or any(c not in _LETTERS for c in head + tail):
        raise _error(subscripts, f"the output {rhs!r} must be letters and at most one '...'")
    output = head + "".join(fresh) + tail
    for c in output:
        if output.count(c) > 1:
            raise _error(subscripts, f"the output repeats {c!r}; expected each letter once")
        if c not in "".join(inputs):
            raise _error(subscripts, f"the output letter {c!r} is not in any operand's term")
    return inputs, output


def _check_sizes(subscripts: str, inputs: list[str], shapes: list[tuple]) -> None:
    """Each letter one size: equal within a term; equal or 1 across terms (numpy broadcasting)."""
    sizes: dict[str, tuple[int, int]] = {}  # letter -> (size, operand) of a size other than 1
    for i, (term, shape) in enumerate(zip(inputs, shapes, strict=True)):
        for c, n in zip(term, shape, strict=True):
            if term.count(c) > 1 and len({shape[k] for k, d in enumerate(term) if d == c}) > 1:
                raise _error(
                    subscripts,
                    f"{c!r} is repeated in operand {i} with different sizes "
                    f"{shape}; a diagonal needs equal sizes",
                )
            if n != 1:
                size, j = sizes.setdefault(c, (n, i))
                if size != n:
                    raise _error(
                        subscripts,
                        f"{c!r} has size {size} in operand {j} but size {n} "
                        f"in operand {i}; expected equal sizes (or 1)",
                    )


def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation over the operands' axes named by ``subscripts`` (see the module
    docstring): ``einsum("bij,bjk->bik", A, B)`` is a batched matmul, ``einsum("ij->ji", A)`` a
    transpose, ``einsum("i,i", a, b)`` a dot product. Shapes: the output has one axis per output
    letter, of that letter's size. Operands of one float dtype (ints are cast to it)."""
    if not operands:
        raise ValueError("mg.einsum needs at least one operand after the subscripts")
    tensors = [as_tensor(x) for x in operands]
    floats = sorted({str(t.dtype) for t in tensors if t.dtype.kind == "f"})
    if len(floats) > 1:
        raise TypeError(
            f"mg.einsum: operands of dtypes {floats} mix float dtypes; cast them to one"
        )
    if floats:
        tensors = [t if t.dtype.kind == "f" else cast(t, floats[0]) for t in tensors]
    shapes = [t.shape for t in tensors]
    inputs, output = explicit_subscripts(subscripts, shapes)
    _check_sizes(subscripts, inputs, shapes)
    explicit = f"{','.join(inputs)}->{output}"
    try:
        data = np.einsum(explicit, *[t._data for t in tensors])
    except (ValueError, TypeError) as err:
        raise type(err)(f"mg.einsum: subscripts {subscripts!r} ({explicit}): {err}") from None
    out = Tensor(np.asarray(data))
    if is_recording():
        record("einsum", tuple(tensors), (out,), terms=inputs, output=output)
    return out


@gradient_rule("einsum")
def _einsum_grad(rec, g):
    """dL/dx_i = einsum(s_out, s_j (j != i) -> s_i)(g, x_j), diagonals through identities"""
    inputs, output = rec.attrs["terms"], rec.attrs["output"]
    arrays = [t._data for t in rec.inputs]
    unused = iter(c for c in _LETTERS if c not in "".join(inputs))
    grads = []
    for i, (term, x) in enumerate(zip(inputs, arrays, strict=True)):
        if not rec.needs_grad[i]:
            grads.append(None)
            continue
        terms = [output] + [t for j, t in enumerate(inputs) if j != i]
        values = [g] + [a for j, a in enumerate(arrays) if j != i]
        target = ""
        for axis, c in enumerate(term):
            if c in target:  # a diagonal: a new letter, tied to c by the identity
                twin = next(unused)
                terms.append(c + twin)
                values.append(np.eye(x.shape[axis], dtype=g.dtype))
                c = twin
            target += c
        present = "".join(terms)
        kept = "".join(c for c in target if c in present)
        d = np.einsum(f"{','.join(terms)}->{kept}", *values, optimize=len(values) > 2)
        sizes = iter(d.shape)
        d = d.reshape([next(sizes) if c in present else 1 for c in target])  # sums within x_i
        grads.append(np.broadcast_to(d, np.broadcast_shapes(d.shape, x.shape)))
    return tuple(grads)
