"""Every layer Keras 3 has, in Sequential and functional models, through whole ``.keras`` files
both ways: a model written by minigrad loads in ``keras.saving.load_model``, one written by
Keras loads in ``mgl.models.load_model``, and each predicts what the original predicts (float32,
rtol 1e-5), masks included. Every weight is first set to random values (positive, so moving
variances are valid), so that a weight in the wrong place shows.

Options Keras 3 cannot express are saved for minigrad alone: Keras refuses the file naming them.
"""

import functools

import numpy as np
import pytest
from keras3 import require_keras

import minigrad_layers as mgl

rng = np.random.default_rng(21)


def _ids(steps=6):
    ids = rng.integers(1, 12, size=(3, steps))
    ids[0, steps - 2 :] = 0  # padding, masked by mask_zero
    ids[2, 1:] = 0
    return ids


def _sequences(steps=6, features=3):
    x = rng.normal(size=(3, steps, features)).astype("float32")
    x[1, steps - 3 :] = 0.0  # masked by Masking
    return x


def _recurrent_stack(lib, L, x):
    h = L.SimpleRNN(3, return_sequences=True)(x)
    h = L.LSTM(3, return_sequences=True, go_backwards=True)(h)
    h = L.GRU(3, return_sequences=True, reset_after=False)(h)
    return L.Dense(2)(L.GRU(2, reset_after=True)(h))


def _bidirectional_all_modes(lib, L):
    ids = lib.Input((6,), dtype="int32")
    h = L.Embedding(12, 4, mask_zero=True)(ids)
    outs = [
        L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode=mode)(h)
        for mode in ("concat", "sum", "mul", "ave")
    ]
    outs += L.Bidirectional(L.GRU(2), merge_mode=None)(h)
    return lib.Model(ids, [L.GlobalAveragePooling1D()(o) for o in outs[:4]] + outs[4:])


def _merges(lib, L):
    a, b = lib.Input((4,)), lib.Input((4,))
    da, db = L.Dense(4)(a), L.Dense(4, activation="tanh")(b)
    outs = [L.Add()([da, db]), L.Multiply()([da, db]), L.Average()([da, db])]
    outs += [L.Concatenate()([da, b]), L.Dot(axes=1)([da, db])]
    outs.append(L.Dot(axes=1, normalize=True)([a, db]))
    return lib.Model([a, b], outs)


def _masked_merges(lib, L):
    """The masks of merged sequences (Keras writes LogicalOr, ExpandDims, ZerosLike, ...).

    Keras names the ``concatenate`` operations of the mask it computes when loading a file
    without them (minigrad writes none) ``concatenate``, ``concatenate_1``, ...: a masked
    Concatenate layer must not be named so, else Keras refuses the file (a name used twice)."""
    a, b = lib.Input((6,), dtype="int32"), lib.Input((6,), dtype="int32")
    embed = L.Embedding(12, 3, mask_zero=True)
    added = L.Add()([embed(a), embed(b)])
    joined = L.Concatenate(name="joined")([embed(a), L.Dense(3)(embed(b))])
    return lib.Model([a, b], [L.LSTM(2)(added), L.GRU(2)(joined)])


def _reshaping(lib, L):
    return lib.Sequential(
        [
            lib.Input((4, 3)),
            L.Permute((2, 1)),
            L.Reshape((12,)),
            L.Dense(5),
            L.Dropout(0.3),
            L.RepeatVector(3),
            L.Flatten(),
            L.Dense(2),
        ]
    )


def _convolutional(lib, L):
    x = lib.Input((9, 3))
    h = L.Conv1D(4, 3, padding="causal", activation="relu")(x)
    h = L.BatchNormalization()(h)
    h = L.SpatialDropout1D(0.2)(h)
    h = L.MaxPooling1D(2, padding="same")(h)
    h = L.LayerNormalization()(h)
    h = L.AveragePooling1D(2, strides=1)(h)
    return lib.Model(x, [L.GlobalMaxPooling1D()(h), L.GlobalAveragePooling1D()(h)])


def _sequential_convolutional(lib, L):
    return lib.Sequential(
        [
            lib.Input((8, 2)),
            L.Conv1D(3, 2, strides=2, padding="same"),
            L.LayerNormalization(),
            L.AveragePooling1D(2, padding="same"),
            L.Dropout(0.5),
            L.BatchNormalization(),
            L.MaxPooling1D(2),
            L.Flatten(),
        ]
    )


def _functional_reshaping(lib, L):
    x = lib.Input((6,))
    h = L.Permute((2, 1))(L.Reshape((3, 2))(x))
    return lib.Model(x, L.Flatten()(L.RepeatVector(2)(L.Flatten()(L.Dense(2)(h)))))


def _masked_time_distributed(lib, L):
    return lib.Sequential(
        [
            lib.Input((6, 3)),
            L.Masking(),
            L.TimeDistributed(L.Dense(4, activation="tanh")),
            L.Bidirectional(L.SimpleRNN(2), merge_mode="sum"),
            L.Dense(2),
        ]
    )


def _masked_functional(lib, L):
    x = lib.Input((6, 3))
    h = L.TimeDistributed(L.Dense(4))(L.Masking()(x))
    return lib.Model(x, L.LSTM(2)(h))


def _attention(lib, L):
    queries, values = lib.Input((5,), dtype="int32"), lib.Input((6,), dtype="int32")
    embed = L.Embedding(12, 4, mask_zero=True)
    q, v = embed(queries), embed(values)
    dot = L.Attention(use_scale=True)([q, v])
    concat = L.Attention(score_mode="concat")([q, v, v])
    additive = L.AdditiveAttention()([q, v])
    outs = [L.LSTM(2)(a) for a in (dot, concat, additive)]
    return lib.Model([queries, values], outs)


def _stacked_cells(lib, L, ids):
    h = L.Embedding(12, 3, mask_zero=True)(ids)
    cells = [L.SimpleRNNCell(3), L.LSTMCell(2), L.GRUCell(2, reset_after=False)]
    return L.RNN(cells, return_sequences=True)(h)


# name -> (a builder of the model from a library and its layers module, its inputs)
MODELS = {
    "sequential_masked_recurrent": (
        lambda lib, L: lib.Sequential(
            [
                lib.Input((6,), dtype="int32"),
                L.Embedding(12, 3, mask_zero=True),
                L.SimpleRNN(3, return_sequences=True),
                L.LSTM(3, return_sequences=True),
                L.GRU(3, return_sequences=True, reset_after=False),
                L.GRU(2),
                L.Dense(2),
            ]
        ),
        _ids,
    ),
    "functional_masked_recurrent": (
        lambda lib, L: lib.Model(
            x := lib.Input((6,), dtype="int32"),
            _recurrent_stack(lib, L, L.Embedding(12, 3, mask_zero=True)(x)),
        ),
        _ids,
    ),
    "sequential_stacked_cells": (
        lambda lib, L: lib.Sequential(
            [
                lib.Input((6,), dtype="int32"),
                L.Embedding(12, 3, mask_zero=True),
                L.RNN([L.LSTMCell(3), L.GRUCell(2)], return_sequences=True),
                L.GlobalMaxPooling1D(),
            ]
        ),
        _ids,
    ),
    "functional_stacked_cells": (
        lambda lib, L: lib.Model(x := lib.Input((6,), dtype="int32"), _stacked_cells(lib, L, x)),
        _ids,
    ),
    "bidirectional_all_merge_modes": (_bidirectional_all_modes, _ids),
    "merges": (_merges, lambda: [rng.normal(size=(3, 4)).astype("float32") for _ in "ab"]),
    "masked_merges": (_masked_merges, lambda: [_ids(), _ids()]),
    "reshaping": (_reshaping, lambda: rng.normal(size=(3, 4, 3)).astype("float32")),
    "convolutional": (_convolutional, lambda: rng.normal(size=(3, 9, 3)).astype("float32")),
    "sequential_convolutional": (
        _sequential_convolutional,
        lambda: rng.normal(size=(3, 8, 2)).astype("float32"),
    ),
    "functional_reshaping": (
        _functional_reshaping,
        lambda: rng.normal(size=(3, 6)).astype("float32"),
    ),
    "masked_time_distributed": (_masked_time_distributed, _sequences),
    "masked_functional": (_masked_functional, _sequences),
    "attention": (_attention, lambda: [_ids(5), _ids(6)]),
}


def _as_list(outputs):
    return [np.asarray(o) for o in outputs] if isinstance(outputs, list) else [np.asarray(outputs)]


@functools.cache
def _saved(name: str, writer: str, directory: str):
    """The model ``name`` built by ``writer`` with random weights, saved in ``directory``, and
    its inputs and predictions."""
    libs = {"minigrad": mgl, "keras": require_keras()}
    build, data = MODELS[name]
    model = build(libs[writer], libs[writer].layers)
    weights = model.get_weights()
    model.set_weights([rng.uniform(0.2, 0.8, w.shape).astype("float32") for w in weights])
    x = data()
    path = f"{directory}/{name}.{writer}.keras"
    model.save(path)
    return path, x, _as_list(model.predict(x, verbose=0))


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    return str(tmp_path_factory.mktemp("keras3_layer_files"))


def _assert_same(mine, theirs):
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(MODELS))
def test_keras_loads_minigrad_files(name, directory):
    keras = require_keras()
    path, x, predicted = _saved(name, "minigrad", directory)
    theirs = keras.saving.load_model(path)
    _assert_same(_as_list(theirs.predict(x, verbose=0)), predicted)


@pytest.mark.parametrize("name", list(MODELS))
def test_minigrad_loads_keras_files(name, directory):
    path, x, predicted = _saved(name, "keras", directory)
    ours = mgl.models.load_model(path)
    _assert_same(_as_list(ours.predict(x, verbose=0)), predicted)


@pytest.mark.parametrize("name", ["functional_masked_recurrent", "masked_functional"])
def test_keras_operations_read_by_minigrad_are_saved_as_keras_writes_them(name, directory):
    """The mask operations (NotEqual, Any) of a Keras file, read and saved again by minigrad."""
    keras = require_keras()
    path, x, predicted = _saved(name, "keras", directory)
    again = f"{directory}/{name}.again.keras"
    mgl.models.load_model(path).save(again)
    _assert_same(_as_list(keras.saving.load_model(again).predict(x, verbose=0)), predicted)


def test_a_sequential_built_from_data_accepts_other_lengths_when_reloaded(directory):
    """Saved without an InputLayer (only its build_input_shape), as Keras 3 rebuilds it."""
    keras = require_keras()
    model = mgl.Sequential([mgl.layers.Embedding(12, 3, mask_zero=True), mgl.layers.GRU(2)])
    model.predict(_ids(6), verbose=0)
    path = f"{directory}/from_data.keras"
    model.save(path)
    longer = _ids(9)
    expected = model.predict(longer, verbose=0)
    _assert_same([mgl.models.load_model(path).predict(longer, verbose=0)], [expected])
    _assert_same([np.asarray(keras.saving.load_model(path).predict(longer, verbose=0))], [expected])


class _CustomCell(mgl.layers.SimpleRNNCell):
    """A cell Keras does not know (and nothing registers)."""


# minigrad options Keras 3 lacks: saved for minigrad, which reads them back; Keras names them
KERAS_REFUSES = {
    "truncate_gradient": (lambda L: L.LSTM(2, truncate_gradient=2), "truncate_gradient"),
    "checkpoint_every": (lambda L: L.GRU(2, checkpoint_every=2), "checkpoint_every"),
    "time_major": (lambda L: L.SimpleRNN(2, time_major=True), "time_major"),
    "custom_cell": (lambda L: L.RNN(_CustomCell(2)), "_CustomCell"),
}


@pytest.mark.parametrize("name", list(KERAS_REFUSES))
def test_options_keras_lacks_are_named_by_keras(name, directory):
    keras = require_keras()
    build, named = KERAS_REFUSES[name]
    model = mgl.Sequential([mgl.Input((5, 2)), build(mgl.layers)])
    path = f"{directory}/{name}.keras"
    model.save(path)
    x = rng.normal(size=(3, 5, 2)).astype("float32")
    loaded = mgl.models.load_model(path, custom_objects={"_CustomCell": _CustomCell})
    _assert_same([loaded.predict(x, verbose=0)], [model.predict(x, verbose=0)])
    with pytest.raises((ValueError, TypeError), match=named):
        keras.saving.load_model(path)


def test_a_lambda_cannot_be_saved(directory):
    """Keras stores a Lambda's Python bytecode (read only with safe_mode=False); minigrad never
    stores code, so the file is refused when saving, naming the layer."""
    model = mgl.Sequential([mgl.Input((3,)), mgl.layers.Lambda(lambda x: x * 2, name="double")])
    with pytest.raises(ValueError, match="Lambda layer 'double'"):
        model.save(f"{directory}/lambda.keras")


def test_a_keras_lambda_file_is_refused_naming_the_lambda(directory):
    keras = require_keras()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    path = f"{directory}/keras_lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="lambda"):
        mgl.models.load_model(path)
