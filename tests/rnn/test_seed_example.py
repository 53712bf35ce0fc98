"""The tf.keras 2.0 ``RNN`` docstring's example, with ``keras.`` replaced by ``mgl.`` and ``K.dot``
by ``mg.dot``, runs as written and gives the shapes the docstring documents.

The seed subclasses ``keras.layers.Layer``, i.e. ``mgl.layers.Layer``; the same example also runs
on the top-level spelling ``mgl.Layer``.
"""

import numpy as np

import minigrad as mg
import minigrad_layers as mgl
from minigrad_layers import RNN


def define_minimal_rnn_cell(base):
    """The seed's cell class, verbatim (``keras.layers.Layer`` is passed in as ``base``)."""

    # First, let's define a RNN Cell, as a layer subclass.
    class MinimalRNNCell(base):
        def __init__(self, units, **kwargs):
            self.units = units
            self.state_size = units
            super(MinimalRNNCell, self).__init__(**kwargs)  # noqa: UP008  (as in the seed)

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

    return MinimalRNNCell


def run_seed_example(MinimalRNNCell):  # noqa: N803  (the seed's class name)
    # Let's use this cell in a RNN layer:
    cell = MinimalRNNCell(32)
    x = mgl.Input((None, 5))
    layer = RNN(cell)
    y = layer(x)

    assert tuple(y.shape) == (None, 32)
    batch = np.random.default_rng(0).normal(size=(4, 7, 5)).astype("float32")
    out = mgl.Model(x, y).predict(batch)
    assert out.shape == (4, 32)
    assert [w.shape for w in layer.weights] == [(5, 32), (32, 32)]
    kernel, recurrent = (w.numpy() for w in layer.weights)  # h_t = x_t K + h_{t-1} R, h_0 = 0
    h = np.zeros((4, 32), dtype="float32")
    for t in range(7):
        h = batch[:, t] @ kernel + h @ recurrent
    np.testing.assert_allclose(out, h, rtol=1e-4, atol=1e-5)

    # Here's how to use the cell to build a stacked RNN:
    cells = [MinimalRNNCell(32), MinimalRNNCell(64)]
    x = mgl.Input((None, 5))
    layer = RNN(cells)
    y = layer(x)

    assert tuple(y.shape) == (None, 64)
    assert mgl.Model(x, y).predict(np.ones((3, 6, 5), dtype="float32")).shape == (3, 64)
    assert [w.shape for w in layer.weights] == [(5, 32), (32, 32), (32, 64), (64, 64)]


def test_seed_example_as_written():
    run_seed_example(define_minimal_rnn_cell(mgl.layers.Layer))


def test_seed_example_on_mgl_layer():
    run_seed_example(define_minimal_rnn_cell(mgl.Layer))


def test_symbolic_sequence_shape():
    x = mgl.Input((None, 5))
    seq = RNN(define_minimal_rnn_cell(mgl.Layer)(8), return_sequences=True)(x)
    assert tuple(seq.shape) == (None, None, 8)
