"""Attention and AdditiveAttention: values against a numpy reference, gradients against finite
differences, value/query/causal masks, dropout, symbolic calls, configs and bad inputs."""

import numpy as np
import pytest

import minigrad as mg
import minigrad_layers as mgl

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _float64():
    mg.set_floatx("float64")
    mgl.clear_session()


# -- a numpy reference ------------------------------------------------------------------------


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _dot_scores(q, k, scale=1.0):
    return scale * np.einsum("bid,bjd->bij", q, k)


def _concat_scores(q, k, scale=1.0, weight=1.0):
    return weight * np.tanh(scale * (q[:, :, None, :] + k[:, None, :, :])).sum(-1)


def _additive_scores(q, k, scale):
    return (scale * np.tanh(q[:, :, None, :] + k[:, None, :, :])).sum(-1)


def _attend(scores, v, value_mask=None, query_mask=None, causal=False):
    """softmax over the steps that are kept (the others get -1e9), then the weighted values."""
    keep = np.ones(scores.shape, dtype=bool)
    if value_mask is not None:
        keep &= value_mask[:, None, :]
    if causal:
        keep &= np.tril(np.ones(scores.shape[-2:], dtype=bool))
    weights = _softmax(np.where(keep, scores, scores - 1e9))
    output = weights @ v
    if query_mask is not None:
        output = output * query_mask[..., None]
    return output, weights


def _data(tq=3, tv=4, dim=5, dim_v=None):
    q = RNG.normal(size=(2, tq, dim))
    v = RNG.normal(size=(2, tv, dim if dim_v is None else dim_v))
    k = RNG.normal(size=(2, tv, dim))
    return q, v, k


# -- values ----------------------------------------------------------------------------------


def test_dot_attention_matches_numpy_with_and_without_key_and_scale():
    q, v, k = _data(dim_v=6)
    output, weights = mgl.Attention()([q, v, k], return_attention_scores=True)
    want_output, want_weights = _attend(_dot_scores(q, k), v)
    np.testing.assert_allclose(output.numpy(), want_output, rtol=1e-10)
    np.testing.assert_allclose(weights.numpy(), want_weights, rtol=1e-10)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-12)
    q, v, _ = _data()
    layer = mgl.Attention(use_scale=True)
    layer([q, v])
    assert [w.name for w in layer.weights] == ["attention_1/scale"]
    assert layer.get_weights()[0] == 1.0  # Keras initialises it to one
    layer.set_weights([np.array(0.3)])
    np.testing.assert_allclose(
        layer([q, v]).numpy(), _attend(_dot_scores(q, v, 0.3), v)[0], rtol=1e-10
    )


def test_concat_score_mode_matches_numpy():
    q, v, k = _data()
    layer = mgl.Attention(use_scale=True, score_mode="concat")
    layer([q, v, k])
    assert [w.name.split("/")[-1] for w in layer.weights] == ["scale", "concat_score_weight"]
    layer.set_weights([np.array(0.5), np.array(-1.5)])
    want = _attend(_concat_scores(q, k, 0.5, -1.5), v)[0]
    np.testing.assert_allclose(layer([q, v, k]).numpy(), want, rtol=1e-10)
    plain = mgl.Attention(score_mode="concat")
    np.testing.assert_allclose(
        plain([q, v, k]).numpy(), _attend(_concat_scores(q, k), v)[0], rtol=1e-10
    )


def test_additive_attention_matches_numpy():
    q, v, k = _data(dim_v=3)
    layer = mgl.AdditiveAttention()
    output = layer([q, v, k])
    (scale,) = layer.get_weights()
    assert scale.shape == (5,) and np.abs(scale).max() <= np.sqrt(6 / 10)  # glorot, fans 5, 5
    np.testing.assert_allclose(output.numpy(), _attend(_additive_scores(q, k, scale), v)[0])
    unscaled = mgl.AdditiveAttention(use_scale=False)
    assert unscaled.weights == []
    np.testing.assert_allclose(
        unscaled([q, v, k]).numpy(), _attend(_additive_scores(q, k, 1.0), v)[0], rtol=1e-10
    )


def test_attention_over_more_than_one_batch_axis():
    q, v = RNG.normal(size=(2, 3, 4, 5)), RNG.normal(size=(2, 3, 6, 5))
    output, weights = mgl.Attention()([q, v], return_attention_scores=True)
    want = _softmax(np.einsum("abid,abjd->abij", q, v))
    np.testing.assert_allclose(weights.numpy(), want, rtol=1e-10)
    np.testing.assert_allclose(output.numpy(), want @ v, rtol=1e-10)


# -- masks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [mgl.Attention, mgl.AdditiveAttention])
def test_value_mask_hides_steps_and_query_mask_zeroes_rows(make):
    q, v, k = _data()
    query_mask = np.array([[True, True, False], [True, False, False]])
    value_mask = np.array([[True, True, True, False], [True, False, True, False]])
    layer = make()
    output, weights = layer([q, v, k], mask=[query_mask, value_mask], return_attention_scores=True)
    if make is mgl.Attention:
        scores = _dot_scores(q, k)
    else:
        scores = _additive_scores(q, k, layer.get_weights()[0])
    want_output, want_weights = _attend(scores, v, value_mask, query_mask)
    np.testing.assert_allclose(output.numpy(), want_output, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(weights.numpy(), want_weights, rtol=1e-10, atol=1e-14)
    hidden = ~np.broadcast_to(value_mask[:, None], weights.shape)
    assert np.all(weights.numpy()[hidden] == 0)
    # row 0 of sample 1 is attention over the kept value steps only
    kept = value_mask[1]
    only = _softmax(scores[1, 0, kept]) @ v[1, kept]
    np.testing.assert_allclose(output.numpy()[1, 0], only, rtol=1e-10)
    assert np.all(output.numpy()[~query_mask] == 0)
    np.testing.assert_array_equal(mgl.get_keras_mask(output).numpy(), query_mask)
    assert mgl.get_keras_mask(weights) is None


def test_masks_from_upstream_layers_reach_attention():
    ids_q = np.array([[1, 2, 0], [3, 0, 0]])
    ids_v = np.array([[4, 5, 6, 0], [7, 0, 8, 0]])
    embed = mgl.Embedding(10, 5, mask_zero=True)
    q, v = embed(ids_q), embed(ids_v)
    layer = mgl.Attention()
    output = layer([q, v])
    want = _attend(_dot_scores(q.numpy(), v.numpy()), v.numpy(), ids_v != 0, ids_q != 0)[0]
    np.testing.assert_allclose(output.numpy(), want, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(mgl.get_keras_mask(output).numpy(), ids_q != 0)
    # the same inside a functional model
    tokens_q, tokens_v = mgl.Input((3,), dtype="int64"), mgl.Input((4,), dtype="int64")
    out = mgl.Attention()([embed(tokens_q), embed(tokens_v)])
    model = mgl.Model([tokens_q, tokens_v], out)
    np.testing.assert_allclose(model.predict([ids_q, ids_v], verbose=0), want, atol=1e-12)


def test_causal_mask_hides_later_steps_and_combines_with_the_value_mask():
    q, v, k = _data(tq=4, tv=4)
    value_mask = np.array([[True, True, True, True], [False, True, True, False]])
    output, weights = mgl.Attention()(
        [q, v, k], mask=[None, value_mask], use_causal_mask=True, return_attention_scores=True
    )
    want_output, want_weights = _attend(_dot_scores(q, k), v, value_mask, causal=True)
    np.testing.assert_allclose(weights.numpy(), want_weights, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(output.numpy(), want_output, rtol=1e-10, atol=1e-14)
    assert np.all(np.triu(weights.numpy()[0], 1) == 0)
    assert mgl.get_keras_mask(output) is None


# -- gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        (lambda: mgl.Attention(use_scale=True), {}),
        (lambda: mgl.Attention(use_scale=True, score_mode="concat"), {}),
        (lambda: mgl.AdditiveAttention(), {"use_causal_mask": True}),
    ],
)
def test_gradients_match_finite_differences(make, kwargs):
    q, v, k = _data(tq=3, tv=3, dim=2, dim_v=3)
    mask = [np.array([[1, 1, 0], [1, 1, 1]], bool), np.array([[1, 0, 1], [1, 1, 1]], bool)]
    layer = make()
    layer([q, v, k])
    weights = list(layer.weights)
    w = RNG.normal(size=(2, 3, 3))
    for weight, value in zip(weights, (0.8, 1.3), strict=False):
        if weight.shape == ():
            weight.assign(value)  # away from the symmetric starting point

    def loss(q, v, k, *params):
        names = ["scale", "concat_score_weight"][: len(params)]
        for name, p in zip(names, params, strict=True):
            setattr(layer, name, p)
        return mg.sum(layer([q, v, k], mask=mask, **kwargs) * w)

    mg.gradcheck(loss, [q, v, k, *weights])


# -- dropout, dtypes, shapes ------------------------------------------------------------------


def test_dropout_drops_attention_weights_only_while_training():
    q, v = _data()[:2]
    layer = mgl.Attention(dropout=0.5, seed=3)
    _, plain = layer([q, v], return_attention_scores=True)
    _, same = layer([q, v], return_attention_scores=True, training=False)
    np.testing.assert_array_equal(plain.numpy(), same.numpy())
    output, dropped = layer([q, v], return_attention_scores=True, training=True)
    ratio = dropped.numpy() / plain.numpy()
    assert set(np.round(np.unique(ratio), 12)) == {0.0, 2.0}
    np.testing.assert_allclose(output.numpy(), dropped.numpy() @ v, rtol=1e-10)
    again = mgl.Attention(dropout=0.5, seed=3)([q, v], return_attention_scores=True, training=1)
    np.testing.assert_array_equal(again[1].numpy(), dropped.numpy())


def test_float32_by_default():
    mg.set_floatx("float32")
    layer = mgl.AdditiveAttention()
    output, weights = layer([np.ones((1, 2, 3)), np.ones((1, 4, 3))], return_attention_scores=True)
    assert output.dtype == weights.dtype == layer.scale.dtype == np.float32


def test_output_shapes_concrete_and_symbolic():
    layer = mgl.Attention()
    assert layer.compute_output_shape([(None, 3, 4), (None, 6, 7), (None, 6, 4)]) == (
        None,
        3,
        7,
    )
    query, value = mgl.Input((None, 4)), mgl.Input((6, 4))
    output, weights = mgl.AdditiveAttention()([query, value], return_attention_scores=True)
    assert output.shape == (None, None, 4) and weights.shape == (None, None, 6)
    assert mgl.Attention()([query, value]).shape == (None, None, 4)
    model = mgl.Model([query, value], [output, weights])
    out, w = model.predict([np.ones((2, 3, 4)), np.ones((2, 6, 4))], verbose=0)
    assert out.shape == (2, 3, 4) and w.shape == (2, 3, 6)


# -- configs -----------------------------------------------------------------------------------


def test_configs_round_trip_with_keras_3_keys():
    q, v = _data()[:2]
    cases = [
        (mgl.Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=5), True),
        (mgl.AdditiveAttention(use_scale=False, dropout=0.1), False),
    ]
    for layer, has_score_mode in cases:
        config = layer.get_config()
        keys = {"name", "trainable", "dtype", "use_scale", "dropout", "seed"}
        assert set(config) == keys | ({"score_mode"} if has_score_mode else set())
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
        layer([q, v])
        clone([q, v])
        clone.set_weights(layer.get_weights())
        np.testing.assert_array_equal(clone([q, v]).numpy(), layer([q, v]).numpy())


# -- bad input ---------------------------------------------------------------------------------


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="score_mode.*'dot', 'concat'.*'add'"):
        mgl.Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"\[0, 1\), received 1.0"):
        mgl.AdditiveAttention(dropout=1.0)
    with pytest.raises(TypeError, match="use_causal_mask=True"):
        mgl.Attention(causal=True)
    with pytest.raises(TypeError, match="seed"):
        mgl.Attention(seed="one")
    with pytest.raises(TypeError, match="score_mode"):
        mgl.AdditiveAttention(score_mode="dot")


def test_bad_inputs_and_masks_name_the_layer():
    q, v, k = _data()
    layer = mgl.Attention(name="att")
    with pytest.raises(ValueError, match="'att' must be called on a list.*shape \\(2, 3, 5\\)"):
        layer(q)
    with pytest.raises(ValueError, match="length 2 or 3.*Received length: 1"):
        layer([q])
    with pytest.raises(ValueError, match="rank >= 3.*query \\(3, 5\\)"):
        layer([q[0], v[0]])
    with pytest.raises(ValueError, match="feature axes of query and key.*key \\(2, 4, 6\\)"):
        layer([q, v, np.ones((2, 4, 6))])
    with pytest.raises(ValueError, match="step axes of value and key"):
        layer([q, v, k[:, :3]])
    with pytest.raises(ValueError, match="batch axes"):
        layer([q, v[:1]])
    with pytest.raises(ValueError, match="mask must be a list"):
        layer([q, v], mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="value mask.*\\(2, 4\\).*\\(2, 3\\)"):
        layer([q, v], mask=[None, np.ones((2, 3), bool)])
    additive = mgl.AdditiveAttention(name="add_att")
    additive([q, v])
    with pytest.raises(ValueError, match="'add_att' was built for 5 query features"):
        additive([np.ones((2, 3, 4)), np.ones((2, 4, 4))])
