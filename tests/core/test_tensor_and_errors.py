"""Tensor and Variable surface, dtype rules and the errors bad input gets."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.tensor import as_tensor


def test_tensor_surface():
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.ndim == 2 and t.dtype == np.float32
    assert np.asarray(t).dtype == np.float32 and float(t[1, 1]) == 4.0 and t[0, 0].item() == 1.0
    assert "shape=(2, 2)" in repr(t) and "float32" in repr(t)
    np.testing.assert_array_equal((-t).numpy(), -t.numpy())
    np.testing.assert_array_equal((2 ** mg.tensor([1.0, 3.0])).numpy(), [2.0, 8.0])
    np.testing.assert_array_equal((np.ones(2) - mg.tensor([1.0, 3.0])).numpy(), [0.0, -2.0])
    assert [row.shape for row in t] == [(2,), (2,)]


def test_tensor_dtype_inference():
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True]).dtype == np.bool_
    assert mg.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert mg.tensor(np.ones(2)).dtype == np.float64  # numpy arrays keep their dtype
    assert mg.tensor([1.5]).dtype == np.float32
    assert mg.tensor([1], dtype="float64").dtype == np.float64
    mg.set_floatx("float64")
    assert mg.tensor([1.5]).dtype == np.float64


def test_tensor_copies_the_array_it_is_given():
    array = np.arange(6.0).reshape(2, 3)
    made = [mg.tensor(array), mg.tensor(array[:, 1:]), mg.tensor(array, dtype="float64")]
    from_buffer = mg.tensor(memoryview(bytearray(8)).cast("d"))
    expected = [array.copy(), array[:, 1:].copy(), array.copy()]
    array[:] = -1.0  # the caller changes its array afterwards
    for t, values in zip(made, expected, strict=True):
        np.testing.assert_array_equal(t.numpy(), values)
    assert not np.shares_memory(from_buffer.numpy(), array) and from_buffer.numpy()[0] == 0.0


def test_as_tensor_wraps_without_a_copy():
    array = np.zeros(3)
    view = as_tensor(array)
    assert view.numpy() is array
    array[0] = 2.0
    assert mg.sum(view).item() == 2.0


def test_operands_adopt_the_tensor_dtype_and_mixed_floats_raise():
    x = mg.tensor([1.0], dtype="float32")
    assert (x + np.ones(1, dtype=np.float64)).dtype == np.float32
    assert (x * 3).dtype == np.float32
    assert (mg.tensor([1, 2]) + x).dtype == np.float32
    with pytest.raises(TypeError, match="float32 and float64"):
        _ = x + mg.tensor([1.0], dtype="float64")


def test_variable_assign():
    v = mg.Variable(np.zeros((2, 2)), name="w", dtype="float32")
    before = v.numpy()
    v.assign_add(np.ones((2, 2)))
    v.assign_sub(np.full((2, 2), 0.5))
    assert v.dtype == np.float32 and before[0, 0] == 0.0
    np.testing.assert_array_equal(v.numpy(), np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match=r"shape \(3,\).*'w'.*\(2, 2\)"):
        v.assign(np.ones(3))
    assert "'w'" in repr(v)


def test_variables_hold_c_contiguous_arrays_whatever_they_are_given():
    """A weight from an initializer that makes a transposed array (orthogonal, through QR) is
    stored C-contiguous, and stays so when assigned, so kernels read it without a copy."""
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    v = mg.Variable(fortran)
    assert v.numpy().flags.c_contiguous
    np.testing.assert_array_equal(v.numpy(), fortran)
    v.assign(np.asfortranarray(np.ones((2, 3))))
    assert v.numpy().flags.c_contiguous


def test_incompatible_shapes_name_both():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        mg.add(mg.ones((2, 3)), mg.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 3\) are not aligned"):
        mg.matmul(mg.ones((2, 3)), mg.ones((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*\(4, 2\)"):
        mg.reshape(mg.ones((2, 3)), (4, 2))
    with pytest.raises(ValueError, match="all shapes must match"):
        mg.concat([mg.ones((2, 3)), mg.ones((2, 2))], axis=0)


def test_non_float_data_where_a_float_is_needed():
    with pytest.raises(TypeError, match="expects a float Tensor, received dtype int64"):
        mg.tanh(mg.tensor([1, 2]))
    with pytest.raises(TypeError, match="float"):
        mg.matmul(mg.tensor([[1]]), mg.tensor([[2]]))
    with pytest.raises(TypeError, match="numeric"):
        mg.tensor(["a", "b"])


def test_unknown_dtype_names():
    with pytest.raises(TypeError, match="Unknown dtype 'float33'"):
        mg.tensor([1.0], dtype="float33")
    with pytest.raises(ValueError, match="float16"):
        mg.set_floatx("float16")


def test_random_seed_repeats_draws():
    mg.random.seed(7)
    first = mg.random.generator().normal(size=3)
    mg.random.seed(7)
    np.testing.assert_array_equal(mg.random.generator().normal(size=3), first)


def test_gradcheck_reports_and_names_the_worst_element():
    report = mg.gradcheck(lambda x: mg.sum(x * x), [np.array([1.0, 2.0])])
    assert report.passed and report.max_abs_error < 1e-6

    def wrong(x):  # a deliberately broken gradient: stop_gradient hides half of it
        return mg.sum(x * mg.stop_gradient(x))

    with pytest.raises(AssertionError, match=r"input 0 at index \(1,\)"):
        mg.gradcheck(wrong, [np.array([1.0, 3.0])])


@pytest.mark.parametrize(
    "a_shape, b_shape", [((2, 0), (0, 4)), ((3, 2, 0), (3, 0, 4)), ((0, 3), (3, 4)), ((0,), (0,))]
)
def test_matmul_with_an_empty_axis_is_numpys(a_shape, b_shape):
    a = mg.Variable(np.ones(a_shape), dtype="float64")
    b = mg.Variable(np.ones(b_shape), dtype="float64")
    with mg.GradientTape() as tape:
        y = mg.matmul(a, b)
        loss = mg.sum(y)
    np.testing.assert_array_equal(y.numpy(), np.matmul(a.numpy(), b.numpy()))
    # d sum(A @ B) / dA = 1 @ Bᵀ: a sum over an empty axis (K = 0 or N = 0) or empty itself
    for g, shape in zip(tape.gradient(loss, [a, b]), [a_shape, b_shape], strict=True):
        np.testing.assert_array_equal(g.numpy(), np.zeros(shape))


def test_numpy_failures_are_reported_with_the_op_and_numpys_reason():
    with pytest.raises(ValueError, match=r"mg\.power .*int64.*negative integer powers"):
        mg.tensor([1, 2, 3]) ** -1
    with pytest.raises(TypeError, match=r"mg\.subtract .*bool.*boolean subtract"):
        mg.subtract(mg.tensor([True]), mg.tensor([False]))
    with pytest.raises(ValueError, match=r"mg\.where: incompatible shapes \(3,\), \(2,\) and"):
        mg.where(mg.ones(3) > 0, mg.ones(2), mg.ones(3))
    with pytest.raises(ValueError, match=r"mg\.less: incompatible shapes \(2,\) and \(3,\)"):
        _ = mg.ones(2) < mg.ones(3)


@pytest.mark.parametrize("op", [mg.sum, mg.max, mg.mean, mg.squeeze])
def test_an_axis_of_a_0d_tensor_is_a_value_error(op):
    with pytest.raises(ValueError, match=rf"mg\.{op.__name__}: axis 0 .*ndim 0"):
        op(mg.tensor(1.0), axis=0)


def test_bad_axes_name_the_op_the_axis_and_the_ndim():
    with pytest.raises(
        ValueError, match=r"mg\.sum: axis -3 .*ndim 2; expected an axis in \[-2, 1\]"
    ):
        mg.sum(mg.ones((2, 3)), axis=-3)
    with pytest.raises(ValueError, match=r"mg\.mean: axis \(1, -1\) names an axis twice"):
        mg.mean(mg.ones((2, 3)), axis=(1, -1))
    with pytest.raises(TypeError, match=r"mg\.max: axis must be an int .*received 1\.5"):
        mg.max(mg.ones(3), axis=1.5)
