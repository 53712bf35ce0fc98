"""The masks layers attach to the Tensors they return (Keras' eager masking), kept beside them.

A layer that produces a mask (``Embedding(mask_zero=True)``, ``Masking``, an RNN with
``return_sequences=True``) attaches it to its output; the next layer reads it and, when its
``call`` takes ``mask=``, receives it there. The core ``Tensor`` knows nothing of masks: they live
in this table, keyed by the Tensor's identity, and an entry goes when its Tensor does.

>>> x = mg.tensor(np.ones((2, 3, 4)))
>>> get_keras_mask(x) is None
True
>>> set_keras_mask(x, mg.tensor(np.array([[True, True, False], [True, False, False]])))
>>> get_keras_mask(x).shape
(2, 3)
"""

import weakref

import minigrad as mg

# id(tensor) -> (weak reference to the tensor, its mask)
_masks: dict[int, tuple[weakref.ref, mg.Tensor]] = {}


def get_keras_mask(tensor) -> mg.Tensor | None:
    """The mask attached to ``tensor`` (a bool Tensor, True = keep), or None."""
    entry = _masks.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]


def set_keras_mask(tensor: mg.Tensor, mask: mg.Tensor | None) -> None:
    """Attach ``mask`` to ``tensor`` (None removes it)."""
    key = id(tensor)
    if mask is None:
        _masks.pop(key, None)
        return
    _masks[key] = (weakref.ref(tensor, lambda _, key=key: _forget(key)), mask)


def _forget(key: int) -> None:
    """Drop the entry of a Tensor that no longer exists (unless its id was reused already)."""
    entry = _masks.get(key)
    if entry is not None and entry[0]() is None:
        del _masks[key]
