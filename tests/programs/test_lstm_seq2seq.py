"""Keras' character-level seq2seq program (lstm_seq2seq), with ``keras`` -> ``mgl``, at a small
size on generated text: train with teacher forcing, save as ``.keras``, reload, build the encoder
and decoder inference models from the reloaded model's layers and symbolic tensors, and decode."""

import numpy as np

import minigrad_layers as mgl

rng = np.random.default_rng(2)


def _texts(count):
    words = ["go", "run", "stop", "wait", "come", "help"]
    inputs = [" ".join(rng.choice(words, rng.integers(1, 3))) for _ in range(count)]
    targets = ["\t" + text[::-1] + "\n" for text in inputs]  # "translation": the reversal
    return inputs, targets


def _one_hot(texts, index, length):
    data = np.zeros((len(texts), length, len(index)), dtype="float32")
    for i, text in enumerate(texts):
        for t, char in enumerate(text):
            data[i, t, index[char]] = 1.0
        data[i, len(text) :, index[" "]] = 1.0
    return data


def test_train_save_reload_and_decode(tmp_path):
    latent_dim = 16
    input_texts, target_texts = _texts(64)
    input_characters = sorted(set("".join(input_texts)))
    target_characters = sorted(set("".join(target_texts)) | {" "})
    input_index = {c: i for i, c in enumerate(input_characters)}
    target_index = {c: i for i, c in enumerate(target_characters)}
    max_encoder_len = max(len(t) for t in input_texts)
    max_decoder_len = max(len(t) for t in target_texts)
    encoder_input_data = _one_hot(input_texts, input_index, max_encoder_len)
    decoder_input_data = _one_hot(target_texts, target_index, max_decoder_len)
    decoder_target_data = np.roll(decoder_input_data, -1, axis=1)
    decoder_target_data[:, -1] = 0.0
    decoder_target_data[:, -1, target_index[" "]] = 1.0

    encoder_inputs = mgl.Input(shape=(None, len(input_characters)))
    encoder = mgl.layers.LSTM(latent_dim, return_state=True)
    _, state_h, state_c = encoder(encoder_inputs)
    decoder_inputs = mgl.Input(shape=(None, len(target_characters)))
    decoder_lstm = mgl.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    decoder_dense = mgl.layers.Dense(len(target_characters), activation="softmax")
    model = mgl.Model([encoder_inputs, decoder_inputs], decoder_dense(decoder_outputs))
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(
        [encoder_input_data, decoder_input_data],
        decoder_target_data,
        batch_size=16,
        epochs=2,
        validation_split=0.2,
        verbose=0,
    )
    path = tmp_path / "s2s_model.keras"
    model.save(path)

    model = mgl.models.load_model(path)
    encoder_inputs = model.input[0]
    _, state_h_enc, state_c_enc = model.layers[2].output
    encoder_model = mgl.Model(encoder_inputs, [state_h_enc, state_c_enc])
    decoder_inputs = model.input[1]
    decoder_states_inputs = [mgl.Input(shape=(latent_dim,)), mgl.Input(shape=(latent_dim,))]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
        decoder_inputs, initial_state=decoder_states_inputs
    )
    decoder_outputs = model.layers[4](decoder_outputs)
    decoder_model = mgl.Model(
        [decoder_inputs] + decoder_states_inputs, [decoder_outputs, state_h_dec, state_c_dec]
    )

    # step by step, the inference models reproduce the trained model's teacher-forced outputs
    sample = slice(0, 1)
    teacher_forced = model.predict(
        [encoder_input_data[sample], decoder_input_data[sample]], verbose=0
    )
    states_value = encoder_model.predict(encoder_input_data[sample], verbose=0)
    for t in range(max_decoder_len):
        target_seq = decoder_input_data[sample, t : t + 1]
        output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)
        np.testing.assert_allclose(output_tokens[:, 0], teacher_forced[:, t], rtol=1e-5, atol=1e-6)
        states_value = [h, c]
