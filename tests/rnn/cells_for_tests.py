"""Custom cells for the RNN tests: the cells of the parity fixtures (``shared/parity/README.md``)
and a few more, each a small Layer (or, for ``PlainAccumulatorCell``, a plain object).

Weights are created in ``build`` in the order the fixtures list them and read through the
attributes at every call.
"""

from __future__ import annotations

import minigrad as mg
from minigrad_layers.engine.layer import Layer
from minigrad_layers.engine.tensor_shape import TensorShape


class MinimalRNNCell(Layer):
    """The Keras docs example: ``y = x @ kernel + h @ recurrent_kernel``; output = new state."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.units), initializer="uniform"
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, self.units), initializer="uniform"
        )
        self.built = True

    def call(self, inputs, states):
        y = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return y, [y]


class TwoStateCell(Layer):
    """``h' = tanh(x K + h R + m M)``, ``m' = m + tanh(h' W)``; output ``h'``, states
    ``[h', m']``."""

    def __init__(self, units, memory, **kwargs):
        super().__init__(**kwargs)
        self.units, self.memory = units, memory
        self.state_size = [units, memory]

    def build(self, input_shape):
        u, m = self.units, self.memory
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], u))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(u, u))
        self.memory_kernel = self.add_weight(name="memory_kernel", shape=(m, u))
        self.write_kernel = self.add_weight(name="write_kernel", shape=(u, m))
        self.built = True

    def call(self, inputs, states):
        h, m = states
        h_new = mg.tanh(inputs @ self.kernel + h @ self.recurrent_kernel + m @ self.memory_kernel)
        m_new = m + mg.tanh(h_new @ self.write_kernel)
        return h_new, [h_new, m_new]


class ProjectionCell(Layer):
    """``h' = tanh(x K + h R + b)``, output ``y = h' P`` (output_size != state_size)."""

    def __init__(self, units, projection, **kwargs):
        super().__init__(**kwargs)
        self.units, self.projection = units, projection
        self.state_size = units
        self.output_size = projection

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], u))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(u, u))
        self.bias = self.add_weight(name="bias", shape=(u,), initializer="uniform")
        self.projection_kernel = self.add_weight(
            name="projection_kernel", shape=(u, self.projection)
        )
        self.built = True

    def call(self, inputs, states):
        h = mg.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel + self.bias)
        return h @ self.projection_kernel, [h]


class MatrixStateCell(Layer):
    """One state of shape ``(batch, units, 2)``:
    ``S'[b, i, j] = tanh(Z[b, i, j] + sum_k S[b, i, k] R[k, j])``, ``Z = reshape(x K)``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [TensorShape((units, 2))]
        self.output_size = TensorShape((units, 2))

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], 2 * self.units))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(2, 2))
        self.built = True

    def call(self, inputs, states):
        z = mg.reshape(inputs @ self.kernel, (-1, self.units, 2))  # (B, U, 2)
        s = mg.tanh(z + states[0] @ self.recurrent_kernel)  # (B, U, 2) @ (2, 2)
        return s, [s]


class Flatten2DCell(Layer):
    """Step inputs ``(batch, a, c)`` flattened row-major: ``y = tanh(xf K + h R)``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.step_shape = tuple(input_shape)
        features = input_shape[1] * input_shape[2]
        self.kernel = self.add_weight(name="kernel", shape=(features, self.units))
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, self.units)
        )
        self.built = True

    def call(self, inputs, states):
        flat = mg.reshape(inputs, (inputs.shape[0], -1))  # (B, a*c)
        y = mg.tanh(flat @ self.kernel + states[0] @ self.recurrent_kernel)
        return y, [y]


class ConstantsRNNCell(Layer):
    """``y = tanh(x K + h R + c C)`` with ``c = constants[0]``, the same at every step."""

    def __init__(self, units, constant_dim, **kwargs):
        super().__init__(**kwargs)
        self.units, self.constant_dim = units, constant_dim
        self.state_size = units

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], u))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(u, u))
        self.constant_kernel = self.add_weight(name="constant_kernel", shape=(self.constant_dim, u))
        self.built = True

    def call(self, inputs, states, constants):
        [c] = constants
        y = mg.tanh(
            inputs @ self.kernel + states[0] @ self.recurrent_kernel + c @ self.constant_kernel
        )
        return y, [y]


class AccumulatorCell(Layer):
    """``h_t = scale * h_{t-1} + sum(x_t)`` over the features (no weights); ``units`` copies."""

    def __init__(self, units=1, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.scale = units, scale
        self.state_size = units

    def call(self, inputs, states):
        h = states[0] * self.scale + mg.sum(inputs, axis=1, keepdims=True)
        return h, [h]


class OutputNotStateCell(Layer):
    """Output ``a + b`` with two states ``a' = a + x``, ``b' = b + 2x`` (output != states[0])."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state_size = [1, 1]

    def call(self, inputs, states):
        a, b = states
        a, b = a + inputs, b + 2 * inputs
        return a + b, [a, b]


class PlainAccumulatorCell:
    """Not a Layer: ``h_t = h_{t-1} + sum(x_t)``, a Variable ``gain`` scales the input."""

    state_size = 1

    def __init__(self, gain=1.0):
        self.gain = mg.Variable([gain], name="gain")

    def call(self, inputs, states):
        h = states[0] + mg.sum(inputs, axis=1, keepdims=True) * self.gain
        return h, [h]


class OnesInitialStateCell(MinimalRNNCell):
    """A MinimalRNNCell whose initial states are ones (a custom ``get_initial_state``)."""

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        return [mg.ones((batch_size, self.units), dtype=dtype)]


class TrainingFlagCell(Layer):
    """Records the ``training`` value it was called with; adds 1 per step when training."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.state_size = 1
        self.seen = []
        self.resets = 0

    def reset_dropout_mask(self):
        self.resets += 1

    def call(self, inputs, states, training=None):
        self.seen.append(training)
        h = states[0] + (1.0 if training else 0.0)
        return h, [h]


class NoStateSizeCell:
    """Lacks ``state_size`` on purpose."""

    def __init__(self, units):
        self.units = units

    def call(self, inputs, states):
        return inputs, states


# -------------------------------------------------------------------------------------------------
# helpers
# -------------------------------------------------------------------------------------------------


def weight_attributes(cell) -> list[str]:
    """Names of the cell's Variable attributes, in creation order."""
    return [name for name, value in vars(cell).items() if isinstance(value, mg.Variable)]


def rebind(cell, names, values) -> None:
    """Point the cell's weight attributes at ``values`` (e.g. gradcheck's float64 copies)."""
    for name, value in zip(names, values, strict=True):
        object.__setattr__(cell, name, value)
