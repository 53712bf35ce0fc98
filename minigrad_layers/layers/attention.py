r"""Attention over a sequence of values: dot-product (Luong) and additive (Bahdanau) scores.

Both layers take ``[query, value]`` or ``[query, value, key]`` (``key`` defaults to ``value``),
with shapes ``query (batch, Tq, dim)``, ``value (batch, Tv, dim_v)``, ``key (batch, Tv, dim)``
(more leading batch axes are allowed, the same for all three), and compute

    scores  = score(query, key)                        # (batch, Tq, Tv)
    weights = softmax(scores, over Tv)                 # masked steps get -1e9 added first
    output  = weights @ value                          # (batch, Tq, dim_v)

* ``mask=[query_mask, value_mask]`` (``(batch, Tq)`` and ``(batch, Tv)``, True = keep), or the
  masks attached to the inputs by the layers before: a masked value step gets ``-1e9`` added to
  its score before the softmax, so its weight is 0 (to rounding); a masked query step has a zero
  output row; the output carries the query mask.
* ``use_causal_mask=True`` (a call argument): query step ``i`` only sees value steps ``j <= i``.
* ``dropout``: while training, inverted dropout on ``weights`` (sampled anew every call).
* ``return_attention_scores=True`` returns ``(output, weights)``: the weights after masking,
  softmax and dropout.

>>> import numpy as np, minigrad_layers as mgl
>>> query, value = np.ones((2, 3, 4)), np.ones((2, 5, 4))
>>> output, weights = mgl.Attention()([query, value], return_attention_scores=True)
>>> output.shape, weights.shape
((2, 3, 4), (2, 3, 5))
"""

from __future__ import annotations

import numbers

import numpy as np

import minigrad as mg
from minigrad_layers.engine.functional import SymbolicTensor, is_shape, shape_of
from minigrad_layers.engine.layer import Layer

__all__ = ["AdditiveAttention", "Attention"]

_MASKED_SCORE_OFFSET = 1.0e9  # what Keras subtracts from the scores of masked steps
_ROLES = ("query", "value", "key")


class Attention(Layer):
    r"""Dot-product attention (Luong): ``scores[..., i, j] = scale · query_i · key_j``.

    Args:
        use_scale: create a trainable scalar ``scale`` (initialised to 1) that multiplies the
            scores; without it the scores are not scaled.
        score_mode: ``"dot"`` (the above) or ``"concat"``: ``scores[..., i, j] =
            concat_score_weight · Σ_d tanh(scale · (query_i + key_j))_d``, with a trainable scalar
            ``concat_score_weight`` (initialised to 1).
        dropout: the fraction of attention weights to drop while training, in ``[0, 1)``.
        seed: an int giving the dropout its own generator (default: ``mg.random``'s).

    Call: ``layer([query, value(, key)], mask=None, training=None,
    return_attention_scores=False, use_causal_mask=False)``; see the module docstring.
    Weights, in order: ``scale ()`` (with ``use_scale``), ``concat_score_weight ()`` (with
    ``score_mode="concat"``).
    """

    supports_masking = True

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        if "causal" in kwargs:
            raise TypeError(
                f"{type(self).__name__} has no `causal` argument (tf.keras 2.x deprecated it): "
                "pass `use_causal_mask=True` when calling the layer instead"
            )
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode!r}"
            )
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, numbers.Real)
            or not 0 <= dropout < 1
        ):
            raise ValueError(
                f"{type(self).__name__} `dropout` is the fraction of attention weights to drop: "
                f"a number in [0, 1), received {dropout!r}"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(
                f"{type(self).__name__} `seed` must be None or an int, received {seed!r}"
            )
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self._generator = None if seed is None else np.random.default_rng(seed)

    # -- checks --------------------------------------------------------------------------------
    def _shapes(self, inputs) -> list[tuple]:
        """The shapes of ``[query, value, key]`` (key = value when not given), checked."""
        name = f"{type(self).__name__} layer {self.name!r}"
        if is_shape(inputs) or not isinstance(inputs, list | tuple):
            raise ValueError(
                f"{name} must be called on a list of inputs, namely [query, value] or "
                f"[query, value, key]. Received: {_describe(inputs)}"
            )
        if not 2 <= len(inputs) <= 3:
            raise ValueError(
                f"{name} accepts inputs list of length 2 or 3, namely [query, value] or "
                f"[query, value, key]. Received length: {len(inputs)}"
            )
        shapes = [tuple(s) for s in (inputs if is_shape(inputs[0]) else shape_of(inputs))]
        if len(shapes) == 2:
            shapes.append(shapes[1])
        query, value, key = shapes
        for role, shape in zip(_ROLES, shapes, strict=True):
            if len(shape) < 3 or len(shape) != len(query):
                raise ValueError(
                    f"{name}: query, value and key must have the same rank >= 3 (batch, steps, "
                    f"features); received {_named(shapes)} ({role} has rank {len(shape)})"
                )
        agreements = [
            ("the batch axes of query, value and key", [s[:-2] for s in shapes]),
            ("the feature axes of query and key", [query[-1:], key[-1:]]),
            ("the step axes of value and key", [value[-2:-1], key[-2:-1]]),
        ]
        for what, parts in agreements:
            if not _compatible(parts):
                raise ValueError(f"{name}: {what} must agree, received {_named(shapes)}")
        return shapes

    def _masks(self, mask, shapes) -> tuple:
        """``(query_mask, value_mask)`` as bool arrays (or None), checked against the inputs."""
        if mask is None:
            return None, None
        name = f"{type(self).__name__} layer {self.name!r}"
        if not isinstance(mask, list | tuple):
            raise ValueError(
                f"{name} mask must be a list, namely [query_mask, value_mask]. Received: a mask "
                f"of shape {tuple(mask.shape)}"
            )
        if not 2 <= len(mask) <= 3:
            raise ValueError(
                f"{name} accepts a mask list of length 2 or 3, namely [query_mask, value_mask]. "
                f"Received length: {len(mask)}"
            )
        found = []
        for role, m, shape in zip(_ROLES, mask[:2], shapes, strict=False):
            if m is None:
                found.append(None)
                continue
            m = np.asarray(m.numpy() if isinstance(m, mg.Tensor) else m, dtype=bool)
            if m.shape != tuple(shape[:-1]):
                raise ValueError(
                    f"{name}: the {role} mask must have the {role}'s shape without its feature "
                    f"axis, {tuple(shape[:-1])}; received a mask of shape {m.shape}"
                )
            found.append(m)
        return found[0], found[1]

    # -- weights and scores --------------------------------------------------------------------
    def build(self, input_shape) -> None:
        self._shapes(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight("scale", (), "ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), "ones")

    def _scores(self, query, key):
        """``(..., Tq, dim), (..., Tv, dim) -> (..., Tq, Tv)``."""
        if self.score_mode == "dot":
            rank = key.ndim
            key_t = mg.transpose(key, (*range(rank - 2), rank - 1, rank - 2))  # (..., dim, Tv)
            scores = mg.matmul(query, key_t)  # (..., Tq, Tv)
            return scores if self.scale is None else scores * self.scale
        pairs = mg.expand_dims(query, -2) + mg.expand_dims(key, -3)  # (..., Tq, Tv, dim)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * mg.sum(mg.tanh(pairs), axis=-1)

    # -- the call ------------------------------------------------------------------------------
    def call(
        self,
        inputs,
        mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        shapes = self._shapes(inputs)
        query_mask, value_mask = self._masks(mask, shapes)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        scores = self._scores(query, key)  # (..., Tq, Tv)
        keep = None if value_mask is None else value_mask[..., None, :]  # (..., 1, Tv)
        if use_causal_mask:
            causal = np.tril(np.ones(scores.shape[-2:], dtype=bool))  # (Tq, Tv): j <= i
            keep = causal if keep is None else keep & causal
        if keep is not None:
            scores = mg.where(keep, scores, scores - _MASKED_SCORE_OFFSET)
        weights = mg.softmax(scores, axis=-1)  # (..., Tq, Tv)
        if training and self.dropout > 0:
            rng = self._generator or mg.random.generator()
            kept = rng.random(weights.shape) >= self.dropout
            weights = weights * (kept / (1.0 - self.dropout)).astype(weights.dtype)
        output = mg.matmul(weights, value)  # (..., Tq, dim_v)
        if query_mask is not None:
            output = mg.where(query_mask[..., None], output, 0.0)
        if return_attention_scores:
            return output, weights
        return output

    def compute_mask(self, inputs, mask=None):
        """The query mask (Keras): the output has the query's steps."""
        if not isinstance(mask, list | tuple) or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        query, value, _ = self._shapes(input_shape)
        return (*query[:-1], value[-1])

    def _symbolic_outputs(self, inputs, args: tuple, kwargs: dict):
        """With ``return_attention_scores=True`` a symbolic call also gives the weights'
        ``(..., Tq, Tv)``."""
        output = super()._symbolic_outputs(inputs, args, kwargs)
        if not kwargs.get("return_attention_scores"):
            return output
        query, _, key = self._shapes(inputs)
        return output, SymbolicTensor((*query[:-1], key[-2]), self.dtype)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


class AdditiveAttention(Attention):
    r"""Additive attention (Bahdanau): ``scores[..., i, j] = Σ_d scale_d · tanh(query_i +
    key_j)_d``.

    Args: ``use_scale`` (default True: a trainable ``scale (dim,)``, glorot-uniform; without it
    the sum is unweighted), ``dropout``, ``seed``, as :class:`Attention`. Call arguments and
    masks as :class:`Attention`.

    >>> import numpy as np, minigrad_layers as mgl
    >>> layer = mgl.AdditiveAttention()
    >>> layer([np.ones((2, 3, 4)), np.ones((2, 5, 4))]).shape, layer.scale.shape
    ((2, 3, 4), (4,))
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        if "score_mode" in kwargs:
            raise TypeError(
                "AdditiveAttention has no `score_mode` argument: its scores are always "
                "additive (use Attention(score_mode=...) for dot or concat scores)"
            )
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape) -> None:
        query = self._shapes(input_shape)[0]
        if query[-1] is None:
            raise ValueError(
                f"AdditiveAttention layer {self.name!r}: the feature axis of the query must be "
                f"known to make its `scale` weight, received query shape {query}"
            )
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight("scale", (query[-1],), "glorot_uniform")

    def _shapes(self, inputs) -> list[tuple]:
        shapes = super()._shapes(inputs)
        scale = self.__dict__.get("scale")
        if scale is not None and shapes[0][-1] not in (None, scale.shape[0]):
            raise ValueError(
                f"AdditiveAttention layer {self.name!r} was built for {scale.shape[0]} query "
                f"features (its scale has shape {scale.shape}); received {_named(shapes)}"
            )
        return shapes

    def _scores(self, query, key):
        """``(..., Tq, dim), (..., Tv, dim) -> (..., Tq, Tv)``."""
        pairs = mg.tanh(mg.expand_dims(query, -2) + mg.expand_dims(key, -3))  # (..., Tq, Tv, d)
        if self.scale is not None:
            pairs = pairs * self.scale
        return mg.sum(pairs, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config


def _compatible(parts: list[tuple]) -> bool:
    """Whether tuples of sizes agree wherever the sizes are known (None = unknown)."""
    columns = zip(*parts, strict=True)
    return all(len({d for d in column if d is not None}) <= 1 for column in columns)


def _named(shapes: list[tuple]) -> str:
    return "shapes " + ", ".join(f"{role} {s}" for role, s in zip(_ROLES, shapes, strict=True))


def _describe(inputs) -> str:
    if hasattr(inputs, "shape") or is_shape(inputs):
        return f"one input of shape {tuple(getattr(inputs, 'shape', inputs))}"
    return f"an input of type {type(inputs).__name__}"
