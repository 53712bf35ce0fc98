"""The registry of custom classes and functions that configs may name (Keras 3's
``object_registration``).

A config names a user's class by its *registered name* ``"package>Name"``. Decorating the class
with :func:`register_keras_serializable` records it under that name, so that loading finds it;
``custom_objects={"Name": cls}`` (an argument of the loading functions) or a
:func:`custom_object_scope` does the same for one load. Lookup order, as in Keras: the scopes in
force, the registry, then the ``custom_objects`` given.

>>> @register_keras_serializable(package="Docs")
... class Scale:
...     def get_config(self):
...         return {}
>>> get_registered_name(Scale), get_registered_object("Docs>Scale") is Scale
('Docs>Scale', True)
"""

from __future__ import annotations

import contextlib
import inspect

__all__ = [
    "custom_object_scope",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]

_OBJECTS: dict[str, object] = {}  # registered name -> class or function
_NAMES: dict[object, str] = {}  # class or function -> registered name
_SCOPES: list[dict] = []  # the custom_objects of the loads in progress, innermost last


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """A decorator recording a class (which needs ``get_config``) or a function under
    ``"package>name"`` (``name`` defaults to the object's ``__name__``)."""
    if not isinstance(package, str) or ">" in package:
        raise ValueError(
            f"register_keras_serializable: `package` must be a string without '>', "
            f"received {package!r}"
        )

    def decorator(obj):
        registered = f"{package}>{name if name is not None else obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register {obj.__name__}: a class must define get_config() (its "
                "constructor arguments) to be saved and rebuilt"
            )
        _OBJECTS[registered] = obj
        _NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """``"package>Name"`` for a registered class or function, else its ``__name__``."""
    return _NAMES.get(obj, obj.__name__)


def get_registered_object(name, custom_objects=None):
    """The class or function known as ``name`` (a registered name, or a key of
    ``custom_objects`` or of a scope in force), else ``None``."""
    for scope in reversed(_SCOPES):
        if name in scope:
            return scope[name]
    if name in _OBJECTS:
        return _OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return None


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict | None):
    """Make ``custom_objects`` (``{name: class or function}``) known to every lookup inside."""
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(
            f"custom_objects must be a dict {{name: class or function}}, received "
            f"{type(custom_objects).__name__}"
        )
    _SCOPES.append(dict(custom_objects or {}))
    try:
        yield
    finally:
        _SCOPES.pop()
