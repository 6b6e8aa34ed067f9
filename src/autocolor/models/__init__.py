"""Networks: the generators (pix2pix's U-Net; the U-Net on a pretrained encoder) and the PatchGAN
discriminator (forward passes only)."""

from __future__ import annotations

from torch import nn

from ..config import ENCODERS, GeneratorConfig
from .colornet import ColorNet
from .patchgan import PatchGAN
from .unet import UNet

__all__ = ["UNet", "ColorNet", "PatchGAN", "build_generator"]


def build_generator(config: GeneratorConfig, pretrained: bool = False) -> nn.Module:
    """The generator `config.encoder` names; `pretrained` loads the encoder's ImageNet weights (training)."""
    if config.encoder == "efficientnet-lite0":
        return ColorNet(config, pretrained=pretrained)
    if config.encoder != "unet":
        raise ValueError(f"unknown generator.encoder {config.encoder!r}; choose one of {', '.join(ENCODERS)}")
    return UNet(config)
