"""The engine: what every layer and model is made of.

``layer.py`` (the ``Layer`` lifecycle: ``__init__`` validates, ``build`` makes weights, ``call``
computes), ``functional.py`` (symbolic tensors and graph nodes), ``model.py`` (``Model`` and
``Sequential``), ``naming.py`` (unique default names), ``tensor_shape.py`` (``TensorShape``).
"""
