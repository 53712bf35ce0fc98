"""The layer calls in progress (Keras' call context).

``building``: the layers whose ``__call__`` or ``build`` is running, outermost first; their names
prefix the names of the weights created meanwhile (``"lstm/lstm_cell/kernel"``).
"""

building: list = []
