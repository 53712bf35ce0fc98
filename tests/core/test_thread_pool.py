"""The thread pool: runs of rows, every row computed exactly once, errors passed on."""

import numpy as np
import pytest

from minigrad import thread_pool


@pytest.mark.parametrize("total, parts, grain", [(13, 2, 4), (13, 3, 4), (8, 3, 1), (3, 4, 4)])
def test_split_covers_every_item_once_in_whole_blocks(total, parts, grain):
    runs = thread_pool.split(total, parts, grain)
    assert len(runs) == parts
    assert [start for start, _ in runs[1:]] == [stop for _, stop in runs[:-1]]
    assert runs[0][0] == 0 and runs[-1][1] == total
    assert all(start % grain == 0 and start <= stop for start, stop in runs)


def _fill(out, start, stop):
    out[start:stop] += np.arange(start, stop)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_run_split_computes_each_row_once(threads):
    out = np.zeros(10)
    thread_pool.run_split(_fill, (out,), 10, threads, grain=4)
    np.testing.assert_array_equal(out, np.arange(10))


def _fail_after_four(out, start, stop):
    if start >= 4:
        raise RuntimeError(f"rows {start}:{stop}")


def test_run_split_raises_the_error_of_a_worker():
    with pytest.raises(RuntimeError, match="rows 4:8"):
        thread_pool.run_split(_fail_after_four, (None,), 8, 2, grain=4)


def test_set_num_threads_is_what_kernels_use():
    before = thread_pool.num_threads()
    try:
        thread_pool.set_num_threads(3)
        assert thread_pool.num_threads() == 3
    finally:
        thread_pool.set_num_threads(before)
