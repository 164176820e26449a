"""Training presets: `paper` (the official defaults), `fast` and `preview`.

All presets produce the same model structure (one image-space residual generator per
scale), so every application works on every preset; they differ in pyramid, widths,
iterations and whether neighbouring scales are trained together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from ml.singan.networks import NetConfig


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides how a SinGAN is trained (stored with the model)."""

    name: str
    # pyramid
    min_size: int = 25
    max_size: int = 250
    scale_factor: float = 0.75
    pyramid: str = "official"  # 'official' (adjust_scales2image) or 'dense' (ConSinGAN)
    dense_scales: int = 0  # number of scales of a dense pyramid (0: as many as official)
    # networks: nfc = min(nfc * 2 ** (n // nfc_double_every), nfc_max)
    nfc: int = 32
    nfc_max: int = 128
    nfc_double_every: int = 4
    num_blocks: int = 5
    batch_norm: bool = True
    slope: float = 0.2
    # optimisation
    iterations: int = 2000
    lr_g: float = 5e-4
    lr_d: float = 5e-4
    beta1: float = 0.5
    beta2: float = 0.999
    decay_at: float = 0.8  # fraction of the iterations after which lr drops by gamma
    gamma: float = 0.1
    d_steps: int = 3
    g_steps: int = 3
    gp_weight: float = 0.1
    alpha: float = 10.0  # reconstruction weight
    noise_amp: float = 0.1  # times the RMSE of the upsampled reconstruction
    # concurrent training (1 = the official one scale at a time)
    concurrent: int = 1
    lr_scale: float = 0.1  # learning rate factor per scale below the newest one
    init_from_previous: bool = True  # new scale starts as a copy of the last when shapes match

    def net(self, n: int) -> NetConfig:
        """The networks' shape at scale n (official widening rule)."""
        width = min(self.nfc * 2 ** (n // self.nfc_double_every), self.nfc_max)
        return NetConfig(
            nfc=width,
            min_nfc=width,
            num_blocks=self.num_blocks,
            batch_norm=self.batch_norm,
            slope=self.slope,
        )

    def with_overrides(
        self, max_size: int | None = None, iterations: int | None = None
    ) -> TrainConfig:
        """This preset with the user's max_size and iteration count."""
        changes: dict = {}
        if max_size is not None:
            if max_size <= self.min_size:
                raise ValueError(
                    f"max_size {max_size} must be larger than the preset's min_size {self.min_size}"
                )
            changes["max_size"] = int(max_size)
        if iterations is not None:
            if iterations < 1:
                raise ValueError("iterations must be at least 1")
            changes["iterations"] = int(iterations)
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


PAPER = TrainConfig(name="paper")

# ConSinGAN's ideas on SinGAN's per-scale generators: the newest scale trains together with
# the one below it (at 0.1x the learning rate), the pyramid is denser at low resolution, and
# every scale keeps 32 channels (the finest scales' 64-128 channels are most of `paper`'s
# time), so each scale can have 800 iterations in about a fifth of `paper`'s wall time.
# Training scales together pulls the lower ones toward the reconstruction, which costs
# diversity; a noise amplitude of 0.25 (not the paper's 0.1) gives it back. Six seeds of
# bench/singan.py: 0.76x paper's SWD, 0.91x its diversity (docs/singan-training.md).
FAST = TrainConfig(
    name="fast",
    pyramid="dense",
    nfc_max=32,
    iterations=800,
    concurrent=2,
    lr_scale=0.1,
    noise_amp=0.25,
)

# A quick look in about a minute at 128 px on a 2-core CPU.
PREVIEW = TrainConfig(
    name="preview",
    max_size=128,
    pyramid="dense",
    dense_scales=5,
    nfc=16,
    nfc_max=16,
    iterations=120,
    concurrent=2,
    d_steps=2,
    g_steps=2,
    lr_g=1e-3,
    lr_d=1e-3,
)

PRESETS: dict[str, TrainConfig] = {p.name: p for p in (PAPER, FAST, PREVIEW)}


def get_preset(preset: str | TrainConfig) -> TrainConfig:
    """A preset by name (or a ready TrainConfig), with a clear error for unknown names."""
    if isinstance(preset, TrainConfig):
        return preset
    try:
        return PRESETS[preset]
    except KeyError:
        raise ValueError(
            f"unknown SinGAN preset {preset!r}: use one of {', '.join(PRESETS)}"
        ) from None
