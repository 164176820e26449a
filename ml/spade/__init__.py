"""SPADE/GauGAN engine: networks, official-checkpoint import, model library, fast inference."""
