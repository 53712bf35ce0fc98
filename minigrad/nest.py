"""Nested structures of lists, tuples and dicts (``mg.nest``, as ``tf.nest``): the sources of
``gradient``, an RNN's states, a model's inputs and outputs.

Leaves are everything that is not a list, tuple or dict (``None`` included); dict entries are
visited in sorted-key order, so a structure and its flat list always line up.

>>> flatten([1, (2, 3), {"b": 5, "a": 4}])
[1, 2, 3, 4, 5]
>>> pack_sequence_as([0, (0, 0)], [7, 8, 9])
[7, (8, 9)]
>>> map_structure(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)])
[11, (22, 33)]
"""

__all__ = ["flatten", "is_nested", "map_structure", "pack_sequence_as"]


def is_nested(structure) -> bool:
    """Whether ``structure`` is a list, tuple or dict (not a leaf)."""
    return isinstance(structure, list | tuple | dict)


def flatten(structure) -> list:
    """Leaves in depth-first order; dict entries in sorted-key order; ``None`` is a leaf."""
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def pack_sequence_as(structure, flat_sequence):
    """Rebuild ``structure`` with its leaves replaced, in order, by ``flat_sequence``
    (named tuples keep their type). The inverse of :func:`flatten`."""
    flat_sequence = list(flat_sequence)
    expected = len(flatten(structure))
    if len(flat_sequence) != expected:
        raise ValueError(
            f"pack_sequence_as: the structure has {expected} leaves, but the flat sequence "
            f"has {len(flat_sequence)} elements"
        )
    return _rebuild(structure, iter(flat_sequence))


def _rebuild(item, leaves):
    """``item`` with its leaves taken from the iterator ``leaves``. (A module-level function: a
    recursive closure would make a reference cycle that keeps the leaves alive until the garbage
    collector runs.)"""
    if isinstance(item, list | tuple):
        rebuilt = [_rebuild(x, leaves) for x in item]
        if isinstance(item, list):
            return rebuilt
        return type(item)(*rebuilt) if hasattr(item, "_fields") else tuple(rebuilt)
    if isinstance(item, dict):
        return {key: _rebuild(item[key], leaves) for key in sorted(item)}
    return next(leaves)


def map_structure(fn, *structures):
    """``fn`` applied leaf by leaf to structures of the same nesting; the result has that
    nesting. With several structures, ``fn`` receives one leaf of each."""
    if not structures:
        raise TypeError("map_structure needs at least one structure")
    first = structures[0]
    flats = [flatten(s) for s in structures]
    for i, flat in enumerate(flats[1:], start=1):
        if len(flat) != len(flats[0]):
            raise ValueError(
                f"map_structure: structure {i} has {len(flat)} leaves, structure 0 has "
                f"{len(flats[0])}; they must be nested alike"
            )
    return pack_sequence_as(first, [fn(*leaves) for leaves in zip(*flats, strict=True)])
