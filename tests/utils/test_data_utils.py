"""mgl.utils: to_categorical, pad_sequences, timeseries_dataset_from_array and set_random_seed
against hand-written expectations (the values Keras documents for each)."""

import random

import numpy as np
import pytest

import minigrad_layers as mgl


def test_to_categorical_one_hot_rows_and_trailing_axis():
    expected = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], np.float32)
    np.testing.assert_array_equal(mgl.utils.to_categorical([0, 2, 1]), expected)
    np.testing.assert_array_equal(mgl.utils.to_categorical([[0], [2], [1]]), expected)
    out = mgl.utils.to_categorical(np.array([[0, 1], [1, 3]]), num_classes=5)
    assert out.shape == (2, 2, 5) and out.dtype == np.float32
    assert out[1, 1, 3] == 1 and out.sum() == 4


@pytest.mark.parametrize("labels, classes", [([0, 3], 3), ([-1, 0], None), ([0, -1], 2)])
def test_to_categorical_refuses_labels_outside_the_range(labels, classes):
    with pytest.raises(ValueError, match=r"label -?\d+ is outside \[0, \d+\)"):
        mgl.utils.to_categorical(labels, num_classes=classes if classes else None)


def test_to_categorical_refuses_fractional_labels():
    with pytest.raises(TypeError, match="integer class labels"):
        mgl.utils.to_categorical([0.5, 1.0])


def test_pad_sequences_sides():
    seqs = [[1, 2, 3], [4, 5]]
    np.testing.assert_array_equal(
        mgl.utils.pad_sequences(seqs, maxlen=4), [[0, 1, 2, 3], [0, 0, 4, 5]]
    )
    np.testing.assert_array_equal(
        mgl.utils.pad_sequences(seqs, maxlen=4, padding="post"), [[1, 2, 3, 0], [4, 5, 0, 0]]
    )
    np.testing.assert_array_equal(mgl.utils.pad_sequences(seqs, maxlen=2), [[2, 3], [4, 5]])
    np.testing.assert_array_equal(
        mgl.utils.pad_sequences(seqs, maxlen=2, truncating="post"), [[1, 2], [4, 5]]
    )
    default = mgl.utils.pad_sequences(seqs)
    assert default.shape == (2, 3) and default.dtype == np.int32


def test_pad_sequences_vector_steps_value_and_empty_sequences():
    seqs = [np.ones((2, 3)), np.zeros((0, 3)), 2 * np.ones((1, 3))]
    out = mgl.utils.pad_sequences(seqs, dtype="float32", value=-1.0, padding="post")
    assert out.shape == (3, 2, 3)
    np.testing.assert_array_equal(out[1], -np.ones((2, 3)))
    np.testing.assert_array_equal(out[2, 0], [2, 2, 2])
    np.testing.assert_array_equal(out[2, 1], [-1, -1, -1])


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match='padding must be "pre" or "post", received'):
        mgl.utils.pad_sequences([[1]], padding="left")
    with pytest.raises(ValueError, match="is a string but dtype is int32"):
        mgl.utils.pad_sequences([[1]], value="x")
    with pytest.raises(TypeError, match="sequence 1 must be a list or array"):
        mgl.utils.pad_sequences([[1], 3])
    with pytest.raises(ValueError, match=r"steps of sequence 1 have shape \(2,\)"):
        mgl.utils.pad_sequences([np.ones((2, 3)), np.ones((1, 2))], dtype="float32")


def test_timeseries_windows_predict_the_next_step():
    data = np.arange(10)
    batches = mgl.utils.timeseries_dataset_from_array(
        data[:-3], data[3:], sequence_length=3, batch_size=2
    )
    seen = list(batches)
    assert len(batches) == len(seen) == 3
    x, y = seen[0]
    np.testing.assert_array_equal(x, [[0, 1, 2], [1, 2, 3]])
    np.testing.assert_array_equal(y, [3, 4])
    np.testing.assert_array_equal(seen[-1][0], [[4, 5, 6]])


def test_timeseries_stride_rate_bounds_and_shuffle():
    data = np.arange(20)
    batches = mgl.utils.timeseries_dataset_from_array(
        data,
        None,
        sequence_length=3,
        sequence_stride=4,
        sampling_rate=2,
        batch_size=10,
        start_index=2,
        end_index=15,
    )
    (x,) = list(batches)
    # windows start at 2, 6 and 10 (2 + 2 * (3 - 1) = 6 < 15, 10 + 4 = 14 < 15)
    np.testing.assert_array_equal(x, [[2, 4, 6], [6, 8, 10], [10, 12, 14]])
    shuffled = mgl.utils.timeseries_dataset_from_array(
        data, data, sequence_length=2, batch_size=100, shuffle=True, seed=3
    )
    first, second = next(iter(shuffled)), next(iter(shuffled))
    np.testing.assert_array_equal(np.sort(first[1]), np.arange(19))
    np.testing.assert_array_equal(first[0][:, 0], first[1])
    assert not np.array_equal(first[1], second[1])  # a new order on each pass


def test_timeseries_feeds_fit():
    series = np.sin(np.linspace(0, 20, 200)).astype(np.float32)[:, None]
    batches = mgl.utils.timeseries_dataset_from_array(
        series[:-5], series[5:, 0], sequence_length=5, batch_size=32
    )
    model = mgl.Sequential([mgl.Input((5, 1)), mgl.SimpleRNN(4), mgl.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(batches, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(batches, verbose=0).shape == (191, 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sequence_length": 0}, "sequence_length must be a positive int"),
        ({"sequence_length": 3, "sampling_rate": 10}, "sampling_rate must be lower"),
        ({"sequence_length": 3, "start_index": 12}, r"start_index must be in \[0, 10\)"),
        ({"sequence_length": 20}, "no window of sequence_length=20"),
    ],
)
def test_timeseries_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mgl.utils.timeseries_dataset_from_array(np.arange(10), None, **kwargs)


def test_set_random_seed_repeats_python_numpy_and_weights():
    def draws():
        mgl.utils.set_random_seed(11)
        layer = mgl.Dense(3)
        layer.build((None, 2))
        return random.random(), np.random.rand(), layer.get_weights()[0]

    first, second = draws(), draws()
    assert first[0] == second[0] and first[1] == second[1]
    np.testing.assert_array_equal(first[2], second[2])
    with pytest.raises(TypeError, match="expects an int seed, received 1.5"):
        mgl.utils.set_random_seed(1.5)
