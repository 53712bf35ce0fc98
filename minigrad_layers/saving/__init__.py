"""Saving: weights files (``weights_file``, Keras 3's ``.weights.h5``; ``legacy_npz`` reads the
old ``.npz``), their paths (``structure``) and crash-safe writes (``atomic``)."""
