"""Crash-safe writes: a file is written beside its target, then moved over it in one step.

``os.replace`` within one folder is atomic, so a reader sees either the old file or the complete
new one, never a half-written file; if writing fails the temporary file is removed and the old
file is left untouched.

>>> import os, tempfile
>>> target = os.path.join(tempfile.mkdtemp(), "notes.txt")
>>> with atomic_path(target) as tmp:
...     with open(tmp, "w") as f:
...         _ = f.write("complete")
>>> open(target).read()
'complete'
"""

from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["atomic_path"]


@contextlib.contextmanager
def atomic_path(target):
    """Yield a temporary path in ``target``'s folder; on success move it over ``target``."""
    target = os.fspath(target)
    folder = os.path.dirname(os.path.abspath(target))
    handle, tmp = tempfile.mkstemp(
        prefix=".tmp-", suffix="-" + os.path.basename(target), dir=folder
    )
    os.close(handle)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
