"""One short line on stderr when minigrad's Numba kernels compile for the first time.

The kernels are compiled on first use and cached on disk (``cache=True``), so a user's very first
training step waits seconds for the compiler while later runs load the cache in milliseconds.
Numba announces every real compilation (never a cache load) as a ``numba:compile`` event; the
first one for a kernel of this package prints the notice below, once per process. Set the
environment variable ``MINIGRAD_QUIET=1`` to silence it.
"""

import os
import sys

from numba.core import event

NOTICE = "minigrad: compiling kernels on first use (cached for later runs; this happens once)"


class _FirstCompileNotice(event.Listener):
    def __init__(self):
        self.shown = False

    def on_start(self, ev):
        if self.shown or os.environ.get("MINIGRAD_QUIET"):
            return
        dispatcher = (ev.data or {}).get("dispatcher")
        module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
        if module.startswith("minigrad."):
            self.shown = True
            print(NOTICE, file=sys.stderr, flush=True)

    def on_end(self, ev):
        pass


listener = _FirstCompileNotice()
event.register("numba:compile", listener)
