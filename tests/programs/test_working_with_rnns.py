"""Keras' guide "Working with RNNs", part by part, with ``keras`` -> ``mgl`` and TensorFlow's ops ->
``mg`` (sizes made small; MNIST replaced by random images of its shape)."""

import numpy as np

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers import layers

rng = np.random.default_rng(0)


def test_built_in_layers_and_summaries(capsys):
    model = mgl.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.LSTM(128))
    model.add(layers.Dense(10))
    model.build((None, 7))
    model.summary()

    model = mgl.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.GRU(256, return_sequences=True))
    model.add(layers.SimpleRNN(128))
    model.add(layers.Dense(10))
    assert model(rng.integers(0, 1000, (2, 5))).shape == (2, 10)
    assert "Total params" in capsys.readouterr().out


def test_encoder_states_initialise_the_decoder():
    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=1000, output_dim=64)(encoder_input)
    output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(encoder_embedded)
    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=2000, output_dim=64)(decoder_input)
    decoder_output = layers.LSTM(64, name="decoder")(
        decoder_embedded, initial_state=[state_h, state_c]
    )
    model = mgl.Model([encoder_input, decoder_input], layers.Dense(10)(decoder_output))
    out = model.predict([rng.integers(0, 1000, (3, 6)), rng.integers(0, 2000, (3, 4))], verbose=0)
    assert out.shape == (3, 10)


def test_cross_batch_statefulness_and_state_reuse():
    paragraphs = [rng.random((20, 10, 50)).astype(np.float32) for _ in range(3)]
    lstm_layer = layers.LSTM(64, stateful=True)
    for paragraph in paragraphs:
        lstm_layer(paragraph)
    lstm_layer.reset_states()
    assert all(not np.any(s.numpy()) for s in lstm_layer.states)

    lstm_layer(paragraphs[0])
    lstm_layer(paragraphs[1])
    new_lstm_layer = layers.LSTM(64)
    new_output = new_lstm_layer(paragraphs[2], initial_state=lstm_layer.states)
    assert new_output.shape == (20, 64)


def test_bidirectional_stack():
    model = mgl.Sequential()
    model.add(layers.Bidirectional(layers.LSTM(64, return_sequences=True), input_shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(layers.Dense(10))
    assert model.output_shape == (None, 10)


def build_model(allow_cudnn_kernel=True):
    if allow_cudnn_kernel:
        lstm_layer = layers.LSTM(16, input_shape=(None, 28))
    else:
        lstm_layer = layers.RNN(layers.LSTMCell(16), input_shape=(None, 28))
    return mgl.models.Sequential([lstm_layer, layers.BatchNormalization(), layers.Dense(10)])


def test_lstm_layer_and_rnn_of_a_cell_with_batch_normalization_train_alike():
    x_train, y_train = rng.random((128, 28, 28)), rng.integers(0, 10, 128)
    models = []
    for allow in (True, False):
        model = build_model(allow_cudnn_kernel=allow)
        if models:
            model.set_weights(models[0].get_weights())
        model.compile(
            loss=mgl.losses.SparseCategoricalCrossentropy(from_logits=True),
            optimizer="sgd",
            metrics=["accuracy"],
        )
        models.append(model)
    histories = []
    for model in models:
        mgl.utils.set_random_seed(0)  # the same shuffled batches for both
        histories.append(model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0))
    np.testing.assert_allclose(histories[0].history["loss"], histories[1].history["loss"], 1e-5)

    cpu_model = build_model(allow_cudnn_kernel=True)
    cpu_model.set_weights(models[0].get_weights())
    sample = x_train[0]
    result = mg.argmax(cpu_model.predict_on_batch(mg.expand_dims(mg.tensor(sample), 0)), axis=1)
    assert result.shape == (1,) and 0 <= int(result.numpy()[0]) < 10


@mgl.saving.register_keras_serializable()
class NestedCell(layers.Layer):
    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.state_size = [mgl.TensorShape([unit_1]), mgl.TensorShape([unit_2, unit_3])]
        self.output_size = [mgl.TensorShape([unit_1]), mgl.TensorShape([unit_2, unit_3])]
        super().__init__(**kwargs)

    def build(self, input_shapes):
        i1, i2, i3 = input_shapes[0][1], input_shapes[1][1], input_shapes[1][2]
        self.kernel_1 = self.add_weight(
            shape=(i1, self.unit_1), initializer="uniform", name="kernel_1"
        )
        self.kernel_2_3 = self.add_weight(
            shape=(i2, i3, self.unit_2, self.unit_3), initializer="uniform", name="kernel_2_3"
        )

    def call(self, inputs, states):
        input_1, input_2 = mg.nest.flatten(inputs)
        s1, s2 = states
        output_1 = mg.matmul(input_1, self.kernel_1)
        output_2_3 = mg.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        return (output_1, output_2_3), (s1 + output_1, s2 + output_2_3)

    def get_config(self):
        return {"unit_1": self.unit_1, "unit_2": self.unit_2, "unit_3": self.unit_3}


def test_nested_inputs_and_outputs_train_on_two_inputs_and_two_targets():
    unit_1, unit_2, unit_3, i1, i2, i3, batch, timestep = 4, 3, 5, 6, 4, 3, 8, 7
    rnn = layers.RNN(NestedCell(unit_1, unit_2, unit_3))
    input_1, input_2 = mgl.Input((None, i1)), mgl.Input((None, i2, i3))
    outputs = rnn((input_1, input_2))
    model = mgl.models.Model([input_1, input_2], outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])
    input_data = [rng.random((4 * batch, timestep, i1)), rng.random((4 * batch, timestep, i2, i3))]
    target_data = [rng.random((4 * batch, unit_1)), rng.random((4 * batch, unit_2, unit_3))]
    history = model.fit(input_data, target_data, batch_size=batch, epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    # the RNN returns the cell's output at the last step (the states are what accumulates)
    out_1, out_2 = model.predict(input_data, verbose=0)
    kernel_1 = rnn.cell.kernel_1.numpy()
    np.testing.assert_allclose(out_1, input_data[0][:, -1] @ kernel_1, rtol=1e-4)
    assert out_2.shape == (4 * batch, unit_2, unit_3)


def test_the_registered_cell_is_found_by_its_registered_name():
    assert mgl.saving.get_registered_object("Custom>NestedCell") is NestedCell
