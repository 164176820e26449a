"""Spadework's engines: SPADE/GauGAN and SinGAN in pure PyTorch + NumPy (no Qt)."""
