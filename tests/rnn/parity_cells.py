"""The custom cells of the parity fixtures (``tests/rnn/parity/manifest.json``, "custom_cells"),
written as user code would write them: ``Layer`` subclasses following the cell protocol.

Weights are created in ``build`` in the order the fixtures list them (their ``get_weights()``
order); initializers do not matter since every weight is set from the fixture.
"""

import minigrad as mg
import minigrad_layers as mgl


class MinimalRNNCell(mgl.Layer):
    """``y = x @ kernel + h @ recurrent_kernel``; output ``y``, state ``[y]``."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

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
        output = mg.dot(inputs, self.kernel) + mg.dot(prev_output, self.recurrent_kernel)
        return output, [output]


class ConstantsRNNCell(mgl.Layer):
    """``y = tanh(x @ kernel + h @ recurrent_kernel + c @ constant_kernel)`` with ``c`` the one
    constant, the same at every step."""

    def __init__(self, units, constant_dim, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.constant_dim = constant_dim
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, self.units)
        )
        self.constant_kernel = self.add_weight(
            name="constant_kernel", shape=(self.constant_dim, self.units)
        )
        self.built = True

    def call(self, inputs, states, constants):
        [c] = constants
        y = mg.tanh(
            mg.dot(inputs, self.kernel)
            + mg.dot(states[0], self.recurrent_kernel)
            + mg.dot(c, self.constant_kernel)
        )
        return y, [y]


class MatrixStateCell(mgl.Layer):
    """One state of shape ``(batch, units, 2)``:
    ``S_new = tanh(reshape(x @ kernel, (B, units, 2)) + S @ recurrent_kernel)``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [mgl.TensorShape((units, 2))]
        self.output_size = mgl.TensorShape((units, 2))

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], 2 * self.units))
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(2, 2))
        self.built = True

    def call(self, inputs, states):
        z = mg.reshape(mg.dot(inputs, self.kernel), (-1, self.units, 2))  # (B, units, 2)
        s_new = mg.tanh(z + mg.matmul(states[0], self.recurrent_kernel))  # (B, units, 2)
        return s_new, [s_new]


class TwoStateCell(mgl.Layer):
    """States ``h (B, units)`` and ``m (B, memory)``: ``h_new = tanh(x K + h R + m M)``,
    ``m_new = m + tanh(h_new W)``; output ``h_new``."""

    def __init__(self, units, memory, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.memory = memory
        self.state_size = [units, memory]

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, self.units)
        )
        self.memory_kernel = self.add_weight(name="memory_kernel", shape=(self.memory, self.units))
        self.write_kernel = self.add_weight(name="write_kernel", shape=(self.units, self.memory))
        self.built = True

    def call(self, inputs, states):
        h, m = states
        h_new = mg.tanh(
            mg.dot(inputs, self.kernel)
            + mg.dot(h, self.recurrent_kernel)
            + mg.dot(m, self.memory_kernel)
        )
        m_new = m + mg.tanh(mg.dot(h_new, self.write_kernel))
        return h_new, [h_new, m_new]


class ProjectionCell(mgl.Layer):
    """State ``h (B, units)``, output ``h_new @ projection_kernel (B, projection)``."""

    def __init__(self, units, projection, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.projection = projection
        self.state_size = units
        self.output_size = projection

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, self.units)
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,))
        self.projection_kernel = self.add_weight(
            name="projection_kernel", shape=(self.units, self.projection)
        )
        self.built = True

    def call(self, inputs, states):
        h_new = mg.tanh(
            mg.dot(inputs, self.kernel) + mg.dot(states[0], self.recurrent_kernel) + self.bias
        )
        return mg.dot(h_new, self.projection_kernel), [h_new]


class Flatten2DCell(mgl.Layer):
    """Step inputs ``(B, a, c)`` flattened row-major to ``(B, a*c)``;
    ``y = tanh(xf @ kernel + h @ recurrent_kernel)``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        a, c = input_shape[-2], input_shape[-1]
        self.kernel = self.add_weight(name="kernel", shape=(a * c, self.units))
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, self.units)
        )
        self.built = True

    def call(self, inputs, states):
        xf = mg.reshape(inputs, (inputs.shape[0], -1))  # (B, a*c)
        y = mg.tanh(mg.dot(xf, self.kernel) + mg.dot(states[0], self.recurrent_kernel))
        return y, [y]


class NoStateSizeCell(mgl.Layer):
    """A broken cell: it has ``call`` but no ``state_size`` (the RNN must reject it)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def call(self, inputs, states):
        return inputs, states


CUSTOM_CELLS = {
    cls.__name__: cls
    for cls in (
        MinimalRNNCell,
        ConstantsRNNCell,
        MatrixStateCell,
        TwoStateCell,
        ProjectionCell,
        Flatten2DCell,
        NoStateSizeCell,
    )
}
