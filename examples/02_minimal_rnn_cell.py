# %% [markdown]
"""A cell of your own: the tf.keras 2.0 RNN docstring's MinimalRNNCell, run and then trained.

The first half is the example from the docstring of tf.keras 2.0's ``RNN`` layer, with
``keras.`` replaced by ``mgl.`` and ``K.dot`` by ``mg.dot`` and nothing else changed: a cell is
any layer with a ``state_size`` and a ``call(inputs, states)`` that returns ``(output,
new_states)``; ``RNN(cell)`` runs it over the time axis, and ``RNN([cell, cell])`` stacks cells.
The script prints the shapes that ``Model(x, y).predict`` returns for both.

The second half trains the same cell, with a ``Dense`` head, to output the sum of a sequence of
numbers, printing the loss as it falls. The cell is linear, ``h_t = x_t K + h_{t-1} R``, so a
running sum needs ``R`` to keep what it has added up: the script prints the largest eigenvalue
of the learned ``R`` (close to 1: an integrator) and the error on sequences of other lengths.

It runs as a script or, cell by cell (``# %%``), as a notebook.

    python examples/02_minimal_rnn_cell.py [--quick]
"""

# %%
import argparse

import numpy as np

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers import RNN

# %% [markdown]
# ## The cell
# Any layer with a ``state_size`` and a ``call(inputs, states)`` returning
# ``(output, new_states)`` is a cell. This one is linear: ``h_t = x_t K + h_{t-1} R``.


# %%
# First, let's define a RNN Cell, as a layer subclass.
class MinimalRNNCell(mgl.layers.Layer):
    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super(MinimalRNNCell, self).__init__(**kwargs)  # noqa: UP008  (as in the docstring)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="uniform", name="recurrent_kernel"
        )
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = mg.dot(inputs, self.kernel)
        output = h + mg.dot(prev_output, self.recurrent_kernel)
        return output, [output]


# %% [markdown]
# ## The docstring's two uses
# ``RNN(cell)`` runs the cell over the time axis; ``RNN([cell, cell])`` stacks two cells, the
# first one's outputs being the second one's inputs.


# %%
def docstring_example(batch: np.ndarray) -> None:
    """The docstring's two uses of the cell, each wrapped in a Model and run on ``batch``."""
    # Let's use this cell in a RNN layer:
    cell = MinimalRNNCell(32)
    x = mgl.Input((None, 5))
    layer = RNN(cell)
    y = layer(x)
    print(f"RNN(MinimalRNNCell(32)) on Input((None, 5)): symbolic output shape {y.shape}")
    print(f"  weights: {[(w.name, w.shape) for w in layer.weights]}")
    print(f"  Model(x, y).predict on {batch.shape}: {mgl.Model(x, y).predict(batch).shape}")

    # Here's how to use the cell to build a stacked RNN:
    cells = [MinimalRNNCell(32), MinimalRNNCell(64)]
    x = mgl.Input((None, 5))
    layer = RNN(cells)
    y = layer(x)
    print(f"RNN([MinimalRNNCell(32), MinimalRNNCell(64)]): symbolic output shape {y.shape}")
    print(f"  weight shapes: {[w.shape for w in layer.weights]}")
    print(f"  Model(x, y).predict on {batch.shape}: {mgl.Model(x, y).predict(batch).shape}")


# %% [markdown]
# ## Training it to add up a sequence
# The target is ``y = sum_t x_t``. With ``h_t = x_t K + h_{t-1} R``, a running sum needs
# ``R`` to keep what has been added so far: an eigenvalue of ``R`` close to 1.


# %%
def sum_task(rng: np.random.Generator, n: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sequences of ``steps`` numbers in [-1, 1), shaped (n, steps, 1), and their sums."""
    x = rng.uniform(-1.0, 1.0, size=(n, steps, 1)).astype("float32")  # (n, T, 1)
    return x, x.sum(axis=1)  # (n, 1)


# %%
def main(quick: bool = False) -> None:
    mg.random.seed(0)
    mgl.clear_session()  # default layer names from scratch: rnn, rnn_1, ...
    rng = mg.random.generator()
    print("== The docstring's example ==")
    docstring_example(rng.normal(size=(4, 7, 5)).astype("float32"))  # (batch, time, features)

    steps, n_train, epochs = (10, 256, 8) if quick else (10, 2048, 10)
    print(f"\n== Training it: the sum of {steps} numbers in [-1, 1) ==")
    x_train, y_train = sum_task(rng, n_train, steps)
    inputs = mgl.Input((None, 1))  # any sequence length
    rnn = RNN(MinimalRNNCell(8))
    outputs = mgl.Dense(1)(rnn(inputs))
    model = mgl.Model(inputs, outputs)
    model.compile(optimizer=mgl.optimizers.Adam(learning_rate=0.01), loss="mse")
    print(f"{n_train} sequences; predicting 0 everywhere would give mse {y_train.var():.4f}")
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=0)
    for epoch, loss in enumerate(history.history["loss"], start=1):
        print(f"  epoch {epoch:2d}  loss {loss:.3e}")
    losses = history.history["loss"]
    print(f"The loss fell by a factor of {losses[0] / losses[-1]:.0f} in {epochs} epochs.")

    recurrent = rnn.cell.recurrent_kernel.numpy()
    top = np.abs(np.linalg.eigvals(recurrent)).max()
    print(f"Largest |eigenvalue| of the learned recurrent_kernel: {top:.4f} (1 = an integrator)")
    for length in (5, steps, 2 * steps):
        x_test, y_test = sum_task(rng, 256, length)
        error = np.abs(model.predict(x_test) - y_test).max()
        print(f"  sequences of length {length:2d}: max |prediction - sum| = {error:.4f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for the test suite")
    main(parser.parse_known_args()[0].quick)
