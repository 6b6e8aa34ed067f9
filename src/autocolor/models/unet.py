"""U-Net generator (pix2pix): L (B, 1, H, W) in [-1, 1] -> ab (B, 2, H, W) in [-1, 1] (tanh).

With `config.hints` the input has 3 more channels (L, hint a, hint b, hint mask; see autocolor.hints). They
enter through their own first-layer convolution (`hint_in`, no bias), added to the one on L: the same as one
convolution over all 4 channels, but a separate parameter, so fine-tuning can give it its own learning rate.

Encoder: C64-C128-C256-C512-C512-... (4x4 convs, stride 2, LeakyReLU 0.2), decoder mirrors it with skip
connections from each encoder level; H and W must be multiples of 2**num_downs.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import GeneratorConfig
from .base import Generator
from .norm import conv_bias, make_norm


def _widths(ngf: int, num_downs: int) -> list[int]:
    return [ngf * min(2**i, 8) for i in range(num_downs)]


class _Up(nn.Sequential):
    def __init__(self, cin: int, cout: int, mode: str, bias: bool):
        if mode == "transpose":
            super().__init__(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=bias))
        elif mode == "resize":
            super().__init__(
                nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1, bias=bias)
            )
        else:
            raise ValueError(f"unknown upsample '{mode}'; choose one of transpose, resize")


class UNet(Generator):
    def __init__(self, config: GeneratorConfig | None = None):
        super().__init__()
        self.config = cfg = config or GeneratorConfig()
        if cfg.num_downs < 2:
            raise ValueError("num_downs must be at least 2")
        widths = _widths(cfg.ngf, cfg.num_downs)
        bias = conv_bias(cfg.norm)
        self.down = nn.ModuleList()
        cin = cfg.in_channels
        for i, w in enumerate(widths):
            layers = [] if i == 0 else [nn.LeakyReLU(0.2, inplace=True)]
            layers.append(
                nn.Conv2d(cin, w, 4, 2, 1, bias=bias or i == 0)
            )  # the first conv has no norm after it
            if 0 < i < len(widths) - 1:
                layers.append(make_norm(cfg.norm, w))
            self.down.append(nn.Sequential(*layers))
            cin = w
        if cfg.hints:
            self.hint_in = nn.Conv2d(3, widths[0], 4, 2, 1, bias=False)
        self.up = nn.ModuleList()
        n = len(widths)
        for i in reversed(range(n)):  # decoder level i outputs the resolution of encoder level i - 1
            cin = widths[i] if i == n - 1 else widths[i] * 2
            if i == 0:
                self.up.append(
                    nn.Sequential(
                        nn.ReLU(inplace=True), _Up(cin, cfg.out_channels, cfg.upsample, True), nn.Tanh()
                    )
                )
                continue
            layers = [
                nn.ReLU(inplace=True),
                _Up(cin, widths[i - 1], cfg.upsample, bias),
                make_norm(cfg.norm, widths[i - 1]),
            ]
            if cfg.dropout > 0 and n - 1 - i < 3 and i - 1 >= 3:  # paper: the 3 innermost 512-wide levels
                layers.append(nn.Dropout(cfg.dropout))
            self.up.append(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, input_channels, H, W): L in [-1, 1] (then, with hints, hint ab in [-1, 1] and mask in {0, 1})
        -> ab: (B, 2, H, W) in [-1, 1]."""
        skips = []
        c = self.config.in_channels
        for i, layer in enumerate(self.down):
            x = layer(x[:, :c]) + self.hint_in(x[:, c:]) if i == 0 and self.config.hints else layer(x)
            skips.append(x)
        skips.pop()
        for layer in self.up:
            x = layer(x)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)
        return x


def add_hint_inputs(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A hint-free generator's state dict -> the same for `hints = true`: the hint convolution starts at
    zero, so the new network computes exactly what the old one did."""
    w = state[_FIRST_CONV]
    return {**state, "hint_in.weight": w.new_zeros(w.shape[0], 3, *w.shape[2:])}


_FIRST_CONV = "down.0.0.weight"
