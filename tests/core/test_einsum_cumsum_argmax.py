"""mg.einsum, mg.cumsum and mg.argmax against numpy, their gradients against finite differences."""

import numpy as np
import pytest

import minigrad as mg

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),  # matmul, explicit
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit: the letters seen once, sorted
    ("Ab,bc", [(2, 3), (3, 2)]),  # implicit with an upper-case letter
    ("ba", [(2, 3)]),  # implicit transpose
    ("i,i", [(3,), (3,)]),  # dot product, scalar output
    ("bi,bj->bij", [(2, 3), (2, 4)]),  # batched outer product
    ("ij->i", [(2, 3)]),  # a sum within one operand
    ("ii", [(3, 3)]),  # trace
    ("ii->i", [(3, 3)]),  # diagonal
    ("iij->ij", [(3, 3, 2)]),
    ("ii,i->", [(3, 3), (3,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # a letter of size 1 broadcasts
    ("ij,ij->i", [(2, 3), (2, 1)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),  # '...' broadcasts like numpy
    ("...ij,jk", [(5, 2, 3), (3, 4)]),  # implicit: '...' first
    ("i...->...", [(2, 3, 4)]),
    ("...,...", [(2, 3), (3,)]),
    ("ijk,kl,lm->im", [(2, 3, 4), (4, 5), (5, 2)]),  # three operands
]


@pytest.mark.parametrize("subscripts, shapes", EINSUMS, ids=[s for s, _ in EINSUMS])
def test_einsum_matches_numpy_and_its_gradient_finite_differences(subscripts, shapes):
    rng = np.random.default_rng(len(subscripts))
    xs = [rng.standard_normal(shape) for shape in shapes]
    out = mg.einsum(subscripts, *[mg.tensor(x) for x in xs])
    expected = np.einsum(subscripts, *xs)
    assert out.shape == np.shape(expected) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    weights = rng.standard_normal(out.shape)  # a non-uniform upstream gradient
    mg.gradcheck(lambda *t: mg.sum(mg.einsum(subscripts, *t) * weights), xs)


def test_einsum_keeps_float32_and_casts_integers():
    out = mg.einsum("i,i", mg.ones(3), mg.tensor([1, 2, 3]))
    assert out.dtype == np.float32 and out.item() == 6.0


@pytest.mark.parametrize(
    "subscripts, shapes, message",
    [
        ("ij,jk", [(2, 3), (4, 5)], "'j' has size 3 in operand 0 but size 4 in operand 1"),
        ("ij", [(2, 3), (3,)], "1 operand term(s), but 2 operand(s) were given"),
        ("ijk", [(2, 3)], "operand 0 has 2 dims but its term 'ijk' names 3; expected 2 letters"),
        ("ij->ik", [(2, 3)], "output letter 'k' is not in any operand's term"),
        ("ij->ii", [(2, 3)], "the output repeats 'i'"),
        ("i1", [(2, 3)], "'1' is not a subscript; expected letters"),
        ("i.j", [(2, 3)], "stray '.'"),
        ("ii", [(2, 3)], "'i' is repeated in operand 0 with different sizes (2, 3)"),
        ("...i->i", [(2, 3)], "the output must keep it too"),
        ("i->i->i", [(3,)], "'->' appears more than once"),
    ],
)
def test_einsum_bad_subscripts(subscripts, shapes, message):
    with pytest.raises(ValueError) as raised:
        mg.einsum(subscripts, *[mg.ones(shape) for shape in shapes])
    assert f"mg.einsum: subscripts {subscripts!r}" in str(raised.value)
    assert message in str(raised.value)


def test_einsum_bad_arguments():
    with pytest.raises(TypeError, match="expects a subscripts string, received int"):
        mg.einsum(3, mg.ones(3))
    with pytest.raises(ValueError, match="at least one operand"):
        mg.einsum("i")
    with pytest.raises(TypeError, match=r"\['float32', 'float64'\] mix float dtypes"):
        mg.einsum("i,i", mg.ones(3), mg.ones(3, dtype="float64"))


CUMSUMS = [
    {},
    {"axis": 0},
    {"axis": 1},
    {"axis": -1, "exclusive": True},
    {"axis": 0, "reverse": True},
    {"axis": 1, "exclusive": True, "reverse": True},
]


def numpy_cumsum(x, axis=None, exclusive=False, reverse=False):
    """The reference: flip, cumsum, shift by one for exclusive, flip back."""
    if axis is None:
        x, axis = x.ravel(), 0
    y = np.flip(x, axis) if reverse else x
    y = np.cumsum(y, axis=axis)
    if exclusive:
        y = np.concatenate([np.zeros_like(np.take(y, [0], axis)), np.delete(y, -1, axis)], axis)
    return np.flip(y, axis) if reverse else y


@pytest.mark.parametrize("kwargs", CUMSUMS, ids=str)
def test_cumsum_matches_numpy_and_its_gradient_finite_differences(kwargs):
    x = np.random.default_rng(0).standard_normal((3, 4))
    out = mg.cumsum(mg.tensor(x), **kwargs)
    np.testing.assert_allclose(out.numpy(), numpy_cumsum(x, **kwargs), rtol=1e-12)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    mg.gradcheck(lambda t: mg.sum(mg.cumsum(t, **kwargs) * weights), [x])


def test_cumsum_dtypes_and_errors():
    assert mg.cumsum(mg.ones(3)).dtype == np.float32
    assert mg.cumsum(mg.tensor([1, 2, 3], dtype="int32")).numpy().tolist() == [1, 3, 6]
    assert mg.cumsum(mg.tensor([1, 2, 3], dtype="int32")).dtype == np.int32
    with pytest.raises(ValueError, match=r"mg\.cumsum: axis 2 .*ndim 2"):
        mg.cumsum(mg.ones((2, 3)), axis=2)
    with pytest.raises(
        TypeError, match=r"mg\.cumsum: axis must be an int or None, received \(0,\)"
    ):
        mg.cumsum(mg.ones((2, 3)), axis=(0,))


def test_argmax_matches_numpy_and_is_never_recorded():
    x = np.array([[1.0, 5.0, 5.0], [7.0, -1.0, 0.0]])
    w = mg.Variable(x)
    with mg.GradientTape() as tape:
        along_rows, flat = mg.argmax(w, axis=1), mg.argmax(w)
    assert tape.records == []
    assert along_rows.dtype == flat.dtype == np.int64
    np.testing.assert_array_equal(along_rows.numpy(), np.argmax(x, axis=1))  # first of a tie
    assert flat.item() == 3 and mg.argmax(w, axis=-2).numpy().tolist() == [1, 0, 0]
    assert mg.argmax(mg.ones((0, 3)), axis=1).shape == (0,)


def test_argmax_errors():
    with pytest.raises(ValueError, match=r"mg\.argmax of an empty Tensor of shape \(0, 3\)"):
        mg.argmax(mg.ones((0, 3)))
    with pytest.raises(ValueError, match=r"mg\.argmax: axis -3 .*ndim 2"):
        mg.argmax(mg.ones((2, 3)), axis=-3)
    with pytest.raises(TypeError, match=r"mg\.argmax: axis must be an int or None"):
        mg.argmax(mg.ones((2, 3)), axis=[0, 1])
