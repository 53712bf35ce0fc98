"""Reading the members of a ``.keras`` archive (a zip file), with errors that say what is wrong.

>>> import os, tempfile, zipfile
>>> path = os.path.join(tempfile.mkdtemp(), "m.keras")
>>> with zipfile.ZipFile(path, "w") as archive:
...     archive.writestr(CONFIG, "{}")
>>> read_member(path, CONFIG)
b'{}'
"""

from __future__ import annotations

import os
import zipfile
import zlib

__all__ = ["CONFIG", "METADATA", "SUFFIX", "WEIGHTS", "read_member"]

SUFFIX = ".keras"
CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_BROKEN = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError)


def read_member(path: str, name: str) -> bytes:
    """The member ``name`` of the ``.keras`` archive ``path``; a ValueError naming the file
    when it is missing, not a zip archive, truncated or corrupt, or lacks the member."""
    if not os.path.exists(path):
        raise ValueError(f"File not found: {path} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            if name not in archive.namelist():
                raise ValueError(
                    f"{path} is not a complete {SUFFIX} file: it lacks {name!r} (it holds "
                    f"{sorted(archive.namelist())})"
                )
            return archive.read(name)
    except _BROKEN as err:
        raise ValueError(
            f"Cannot read {path}: it is not a {SUFFIX} file (a zip archive), or it is "
            f"truncated or corrupt ({type(err).__name__}: {err})"
        ) from None
