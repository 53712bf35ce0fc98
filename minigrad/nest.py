"""Flatten and rebuild nested lists, tuples and dicts of leaves (sources of ``gradient``, states).

>>> flatten([1, (2, 3), {"b": 5, "a": 4}])
[1, 2, 3, 4, 5]
>>> pack_like([0, (0, 0)], [7, 8, 9])
[7, (8, 9)]
"""


def flatten(structure) -> list:
    """Leaves in depth-first order; dict entries in sorted-key order; ``None`` is a leaf."""
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def pack_like(structure, leaves: list):
    """Rebuild ``structure`` with its leaves replaced, in order, by ``leaves``."""
    leaves = iter(leaves)

    def rebuild(item):
        if isinstance(item, list | tuple):
            rebuilt = [rebuild(x) for x in item]
            if isinstance(item, list):
                return rebuilt
            return type(item)(*rebuilt) if hasattr(item, "_fields") else tuple(rebuilt)
        if isinstance(item, dict):
            return {key: rebuild(item[key]) for key in sorted(item)}
        return next(leaves)

    return rebuild(structure)
