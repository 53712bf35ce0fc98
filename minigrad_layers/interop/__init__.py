"""Weights to and from other libraries: PyTorch's recurrent modules (``pytorch.py``)."""

from minigrad_layers.interop.pytorch import load_torch_state_dict, torch_state_dict

__all__ = ["load_torch_state_dict", "torch_state_dict"]
