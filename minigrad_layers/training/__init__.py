"""Training: ``trainer.py`` (``compile``, ``fit``, ``evaluate``, ``predict``, mixed into
``Model``), ``data.py`` (the arrays and their batches), ``callbacks.py``, ``losses.py``,
``metrics.py`` and ``optimizers.py`` (reached as ``mgl.callbacks``, ``mgl.losses``,
``mgl.metrics``, ``mgl.optimizers``)."""
