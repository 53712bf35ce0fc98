"""Saving: ``weights.py`` writes and reads a model's weights as one ``.npz`` file."""
