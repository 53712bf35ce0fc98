"""Helpers reached as ``mgl.utils.<name>`` (Keras' ``keras.utils``)."""
