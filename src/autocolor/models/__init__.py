"""Networks: the U-Net generator and the PatchGAN discriminator (forward passes only)."""

from .patchgan import PatchGAN
from .unet import UNet

__all__ = ["UNet", "PatchGAN"]
