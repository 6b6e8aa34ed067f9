"""PatchGAN discriminator conditioned on L: (L, ab) (B, 3, H, W) -> real/fake logits (B, 1, H', W').

The default (n_layers=3: C64-C128-C256-C512) sees 70x70 patches and gives a 30x30 map at 256 px.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..config import DiscriminatorConfig
from .norm import conv_bias, make_norm


class PatchGAN(nn.Module):
    def __init__(self, config: DiscriminatorConfig | None = None, in_channels: int = 3):
        super().__init__()
        self.config = cfg = config or DiscriminatorConfig()
        sn = spectral_norm if cfg.spectral_norm else (lambda m: m)
        bias = conv_bias(cfg.norm)
        layers: list[nn.Module] = [sn(nn.Conv2d(in_channels, cfg.ndf, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        width = cfg.ndf
        for i in range(1, cfg.n_layers + 1):
            prev, width = width, cfg.ndf * min(2**i, 8)
            stride = 2 if i < cfg.n_layers else 1
            layers += [
                sn(nn.Conv2d(prev, width, 4, stride, 1, bias=bias)),
                make_norm(cfg.norm, width),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(sn(nn.Conv2d(width, 1, 4, 1, 1)))
        self.net = nn.Sequential(*layers)

    def receptive_field(self) -> int:
        """Side, in input pixels, of the square patch each output logit sees (70 for n_layers=3)."""
        side, jump = 1, 1
        for m in self.net:
            if isinstance(m, nn.Conv2d):
                side += (m.kernel_size[0] - 1) * jump
                jump *= m.stride[0]
        return side

    def forward(self, L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        """L: (B, 1, H, W), ab: (B, 2, H, W), both about [-1, 1] -> logits (B, 1, H', W')."""
        return self.net(torch.cat([L, ab], dim=1))
