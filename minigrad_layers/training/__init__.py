"""Training: ``trainer.py`` (``compile``, ``fit``, ``evaluate``, ``predict``, mixed into
``Model``), ``callbacks.py``, ``losses.py``, ``metrics.py`` and ``optimizers.py`` (reached as
``mgl.callbacks``, ``mgl.losses``, ``mgl.metrics``, ``mgl.optimizers``)."""
