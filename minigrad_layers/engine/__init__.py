"""The engine: what every layer and model is made of.

``layer.py`` (the ``Layer`` lifecycle: ``__init__`` validates, ``build`` makes weights, ``call``
computes), ``functional.py`` (symbolic tensors, graph nodes and shape inference; it does not
import ``Layer``), ``input_layer.py`` (``Input``), ``model.py`` (``Model`` and ``Sequential``),
``call_context.py`` (the layer calls in progress), ``naming.py`` (unique default names),
``tensor_shape.py`` (``TensorShape``).
"""
