"""``.weights.h5``: variables keyed by the model's structure (Keras 3's paths), so freezing a
layer between saving and loading changes nothing; mismatches name the path and both shapes."""

import h5py
import numpy as np
import pytest

import minigrad_layers as mgl

RNG = np.random.default_rng(3)
SEQ = RNG.normal(size=(4, 6, 3))
FLAT = RNG.normal(size=(4, 3))


def dense_stack():
    return mgl.Sequential([mgl.Dense(4, input_shape=(3,)), mgl.Dense(4), mgl.Dense(2)])


def stacked_cells():
    cells = mgl.StackedRNNCells([mgl.LSTMCell(4), mgl.GRUCell(4), mgl.LSTMCell(4)])
    return mgl.Sequential([mgl.RNN(cells, input_shape=(6, 3)), mgl.Dense(2)])


def bidirectional():
    return mgl.Sequential(
        [mgl.Bidirectional(mgl.LSTM(4, return_sequences=True), input_shape=(6, 3)), mgl.LSTM(4)]
    )


def nested():
    inner = mgl.Sequential([mgl.Dense(4, input_shape=(3,)), mgl.Dense(4)])
    x = mgl.Input((3,))
    return mgl.Model(x, mgl.Dense(2)(inner(mgl.Dense(3)(x))))


@pytest.mark.parametrize(
    ("build", "data", "frozen"),
    [
        (dense_stack, FLAT, [1]),
        (stacked_cells, SEQ, [0]),
        (bidirectional, SEQ, [0]),
        (nested, FLAT, [1, 2]),
    ],
    ids=["dense", "stacked_cells", "bidirectional", "model_in_model"],
)
def test_freezing_before_saving_does_not_change_what_loads(tmp_path, build, data, frozen):
    model = build()
    for i in frozen:
        model.layers[i].trainable = False
    expected = model.predict(data, verbose=0)
    model.save_weights(tmp_path / "m.weights.h5")
    fresh = build()
    assert not np.array_equal(fresh.predict(data, verbose=0), expected)
    fresh.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(fresh.predict(data, verbose=0), expected)


def test_the_paths_follow_keras_3(tmp_path):
    model = stacked_cells()
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5") as f:
        datasets = []
        f.visititems(lambda n, i: datasets.append(n) if isinstance(i, h5py.Dataset) else None)
        assert f["vars"].attrs["name"] == model.name
        assert f["layers/rnn/vars"].attrs["name"] == model.layers[0].name
        kernel = model.layers[0].cell.cells[1].kernel
        np.testing.assert_array_equal(f["layers/rnn/cell/cells/gru_cell/vars/0"], kernel.numpy())
    cells = [
        f"layers/rnn/cell/cells/{c}/vars/{i}"
        for c in ("lstm_cell", "gru_cell", "lstm_cell_1")
        for i in range(3)
    ]
    assert sorted(datasets) == sorted([*cells, "layers/dense/vars/0", "layers/dense/vars/1"])


def test_a_functional_model_lists_its_input_layer_and_bidirectional_its_two_layers(tmp_path):
    x = mgl.Input((6, 3))
    model = mgl.Model(x, mgl.Bidirectional(mgl.SimpleRNN(2))(x))
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5") as f:
        assert len(f["layers/input_layer/vars"]) == 0
        for side in ("forward_layer", "backward_layer"):
            assert f[f"layers/bidirectional/{side}/cell/vars/1"].shape == (2, 2)


def test_a_structure_mismatch_names_the_path_and_both_shapes(tmp_path):
    dense_stack().save_weights(tmp_path / "m.weights.h5")
    other = mgl.Sequential([mgl.Dense(4, input_shape=(3,)), mgl.Dense(5), mgl.Dense(2)])
    before = other.get_weights()
    with pytest.raises(
        ValueError, match=r"layers/dense_1.*\[\(4, 5\), \(5,\)\].*\[\(4, 4\), \(4,\)\]"
    ):
        other.load_weights(tmp_path / "m.weights.h5")
    for a, b in zip(before, other.get_weights(), strict=True):  # nothing was assigned
        np.testing.assert_array_equal(a, b)


def test_layers_the_model_lacks_are_named(tmp_path):
    dense_stack().save_weights(tmp_path / "m.weights.h5")
    shorter = mgl.Sequential([mgl.Dense(4, input_shape=(3,)), mgl.Dense(4)])
    with pytest.raises(ValueError, match="layers/dense_2"):
        shorter.load_weights(tmp_path / "m.weights.h5")


def test_the_optimizer_state_is_saved_and_restored(tmp_path):
    def compiled():
        model = dense_stack()
        model.compile(mgl.optimizers.Adam(0.01), "mse")
        return model

    y = RNG.normal(size=(4, 2))
    model = compiled()
    model.fit(FLAT, y, epochs=2, batch_size=4, verbose=0)
    model.save_weights(tmp_path / "m.weights.h5")
    model.fit(FLAT, y, epochs=2, batch_size=4, verbose=0)
    fresh = compiled()
    fresh.load_weights(tmp_path / "m.weights.h5")
    assert fresh.optimizer.iterations == 2
    fresh.fit(FLAT, y, epochs=2, batch_size=4, verbose=0)
    for a, b in zip(model.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
