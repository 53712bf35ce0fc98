"""A small persistent pool of threads that runs one kernel over runs of independent rows.

A Numba kernel compiled with ``nogil=True`` releases Python's GIL while it runs, so plain Python
threads can run it side by side. A kernel whose work splits into rows that never interact (the
row blocks of a matmul, the batch rows of a recurrent sequence) takes the run ``[start, stop)``
it computes as its last two arguments, and :func:`run_split` shares ``range(total)`` out::

    split(total=13, parts=2, grain=4)  ->  [(0, 8), (8, 13)]   # runs of whole blocks of 4
    calling thread:  kernel(*args, 0, 8)
    pool worker:     kernel(*args, 8, 13)                       # both at once, then join

The calling thread computes the first run itself while the workers compute the others, and
returns once all are done (one fork-join per kernel call). Each kernel stays an ordinary serial
loop, which Numba compiles in a fraction of a second; ``parallel=True`` would cost seconds of
compilation per kernel and dtype.

Threads: ``MINIGRAD_NUM_THREADS`` if set, else ``min(2, os.cpu_count())``; see
:func:`set_num_threads`. The workers are started on first use and live as long as the process.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

_pool: ThreadPoolExecutor | None = None
_pool_workers = 0


def _threads_from_environment() -> int:
    value = os.environ.get("MINIGRAD_NUM_THREADS")
    if value is None:
        return min(2, os.cpu_count() or 1)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"MINIGRAD_NUM_THREADS must be a positive integer, received {value!r}")
    return int(value)


_threads = _threads_from_environment()


def num_threads() -> int:
    """How many threads a kernel call may use (the calling thread included)."""
    return _threads


def set_num_threads(n: int) -> None:
    """Let kernel calls use ``n`` threads from now on (``n >= 1``; 1 = the calling thread only).

    >>> set_num_threads(1); set_num_threads(2)
    """
    global _threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects an integer >= 1, received {n!r}")
    _threads = n


def split(total: int, parts: int, grain: int = 1) -> list[tuple[int, int]]:
    """``range(total)`` cut into ``parts`` runs ``(start, stop)`` of (nearly) equal numbers of
    blocks of ``grain`` items; the last block may be short.

    >>> split(13, 2, grain=4)
    [(0, 8), (8, 13)]
    """
    blocks = -(-total // grain)
    edges = [min(total, p * blocks // parts * grain) for p in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def run_split(kernel, args: tuple, total: int, threads: int, grain: int = 1) -> None:
    """Call ``kernel(*args, start, stop)`` for the runs of ``split(total, threads, grain)``, one
    run per thread, and wait for all of them. The kernel writes its results into ``args``."""
    if threads <= 1:
        kernel(*args, 0, total)
        return
    (first, *others) = split(total, threads, grain)
    futures = [_workers(threads - 1).submit(kernel, *args, *run) for run in others]
    try:
        kernel(*args, *first)
    finally:
        for future in futures:
            future.result()  # waits; re-raises a worker's exception


def _workers(n: int) -> ThreadPoolExecutor:
    """The pool, with at least ``n`` worker threads."""
    global _pool, _pool_workers
    if _pool is None or _pool_workers < n:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="minigrad")
        _pool_workers = n
    return _pool
