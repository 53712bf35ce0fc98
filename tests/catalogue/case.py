"""One catalogue entry: a call that must fail, the exception it raises, what its message names."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    """A bad input.

    ``call()`` must raise ``raises`` (a type or a tuple of types) and the message must contain every
    string of ``mentions`` (case-insensitive): what was received and what was expected.
    """

    name: str
    call: Callable[[], object]
    raises: type[BaseException] | tuple[type[BaseException], ...]
    mentions: tuple[str, ...]
