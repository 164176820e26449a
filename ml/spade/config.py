"""The settings that fix a SPADE generator's layout, as the official options name them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

UPSAMPLING_LAYERS = {"normal": 5, "more": 6, "most": 7}


@dataclass
class GeneratorConfig:
    """Everything needed to rebuild a generator: checkpoint tensors plus these give the model."""

    label_nc: int
    contain_dontcare: bool
    no_instance: bool
    ngf: int = 64
    num_upsampling_layers: str = "normal"
    crop_size: int = 256
    aspect_ratio: float = 1.0
    use_vae: bool = False
    z_dim: int = 256
    # Width of every SPADE layer's label branch. The official code fixes it at 128; a
    # compact model trained here may choose less (at 256 px the label branches are most of
    # a small generator's work).
    spade_hidden: int = 128
    # Side of the averaged-down copy of the picture the style encoder also sees (0: the
    # official encoder, which sees little of a picture's overall brightness and colour).
    encoder_thumbnail: int = 0

    def __post_init__(self) -> None:
        if self.num_upsampling_layers not in UPSAMPLING_LAYERS:
            raise ValueError(
                f"num_upsampling_layers must be one of {', '.join(UPSAMPLING_LAYERS)}, "
                f"not {self.num_upsampling_layers!r}"
            )
        if self.label_nc < 1 or self.ngf < 1 or self.z_dim < 1 or self.spade_hidden < 1:
            raise ValueError("label_nc, ngf, z_dim and spade_hidden must be positive")
        if self.encoder_thumbnail < 0:
            raise ValueError("encoder_thumbnail must not be negative")
        if self.aspect_ratio <= 0:
            raise ValueError("aspect_ratio must be positive")
        if self.crop_size < self.stride:
            raise ValueError(
                f"crop_size {self.crop_size} is smaller than the latent stride {self.stride}"
            )

    @property
    def semantic_nc(self) -> int:
        """Input channels: one-hot classes, the don't-care channel, the instance-edge channel."""
        return self.label_nc + int(self.contain_dontcare) + (0 if self.no_instance else 1)

    @property
    def num_up(self) -> int:
        """How many times the latent grid is doubled to reach the output size."""
        return UPSAMPLING_LAYERS[self.num_upsampling_layers]

    @property
    def stride(self) -> int:
        """Output pixels per latent cell; output sizes are multiples of it."""
        return 2**self.num_up

    @property
    def latent_size(self) -> tuple[int, int]:
        """(sw, sh) of the native latent grid, as the official generator computes it."""
        sw = self.crop_size // self.stride
        sh = round(sw / self.aspect_ratio)
        return sw, sh

    @property
    def native_size(self) -> tuple[int, int]:
        """(W, H) of the image the generator was built for."""
        sw, sh = self.latent_size
        return sw * self.stride, sh * self.stride

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> GeneratorConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown generator settings: {', '.join(sorted(unknown))}")
        return cls(**data)
