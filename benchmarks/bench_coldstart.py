"""Cold start: how long a new user waits for ``import minigrad_layers`` and the first training step.

Each measurement runs in a child process (a fresh interpreter, as a user's script would) with
``NUMBA_CACHE_DIR`` pointing at a folder of its own:

* ``cold``: an empty folder, so every kernel the step needs is compiled first;
* ``warm``: the same folder again, so the kernels load from the cache.

The model is the README's: Embedding(1000, 32) -> RNN layer(64) -> Dense(1), trained with
``fit`` on one batch of 32 sequences of 40 ids (Adam, binary cross-entropy), once for each of
SimpleRNN, LSTM and GRU. The child prints the import time, the first ``fit`` step's time and the
number of Numba functions compiled; the parent prints them side by side, with the processor
time of the cold step (less sensitive than the wall-clock time to other processes on a shared
machine). Targets: first step from an empty cache <= 4 s, warm <= 0.5 s, import <= 0.5 s.

    python benchmarks/bench_coldstart.py [--cells SimpleRNN,LSTM,GRU]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
start = time.perf_counter()
import numpy as np
import minigrad_layers as mgl
import_seconds = time.perf_counter() - start
from numba.core.registry import CPUDispatcher  # noqa: E402
import gc
cell = sys.argv[1]
model = mgl.Sequential([
    mgl.Input((40,), dtype="int64"),
    mgl.Embedding(1000, 32),
    getattr(mgl, cell)(64),
    mgl.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy")
rng = np.random.default_rng(0)
x, y = rng.integers(1, 1000, (32, 40)), rng.integers(0, 2, (32, 1)).astype("float32")
start, cpu_start = time.perf_counter(), time.process_time()
model.fit(x, y, batch_size=32, epochs=1, verbose=0)
step_seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
compiled = sum(
    len(obj.signatures) for obj in gc.get_objects() if isinstance(obj, CPUDispatcher)
)
print(json.dumps(
    {"import": import_seconds, "step": step_seconds, "cpu": cpu_seconds, "compiled": compiled}
))
"""


def run_child(cell: str, cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, MINIGRAD_NUM_THREADS="2")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, cell], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(cells: list[str]) -> dict:
    results = {}
    print(
        f"{'cell':10} {'import s':>9} {'cold step s':>12} {'cold cpu s':>11} {'warm step s':>12}"
        f" {'compiled':>9}"
    )
    for cell in cells:
        with tempfile.TemporaryDirectory() as cache_dir:
            cold = run_child(cell, cache_dir)
            warm = run_child(cell, cache_dir)
        results[cell] = {"cold": cold, "warm": warm}
        print(
            f"{cell:10} {warm['import']:9.2f} {cold['step']:12.2f} {cold['cpu']:11.2f}"
            f" {warm['step']:12.2f} {cold['compiled']:9d}"
        )
    print("targets: import <= 0.5 s, cold step <= 4 s, warm step <= 0.5 s")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="SimpleRNN,LSTM,GRU")
    main(parser.parse_args().cells.split(","))
