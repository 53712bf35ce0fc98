"""BPTT study tools: run a recurrent layer under a tape and read backprop-through-time per step.

``trace_bptt`` (``trace.py``) traces a layer on its own, or inside a model with ``model=``
(``in_model.py``); the trace's Jacobians and gates of the built-in cells are written out in
``jacobians.py`` and ``gates.py``, and ``figures.py`` holds what its ``plot()`` draws.

>>> import numpy as np, minigrad as mg, minigrad_layers as mgl
>>> layer = mgl.SimpleRNN(4)
>>> trace = mgl.inspect.trace_bptt(layer, np.ones((2, 6, 3)), lambda out: mg.sum(out * out))
>>> trace.steps, trace.grad_norms.shape, trace.jacobian_norms().shape
(6, (6,), (6,))
"""

from minigrad_layers.inspect.rtrl import RTRLResult, rtrl_gradients
from minigrad_layers.inspect.trace import BPTTTrace, trace_bptt

__all__ = ["BPTTTrace", "RTRLResult", "rtrl_gradients", "trace_bptt"]
