"""A U-Net on an ImageNet-pretrained encoder, with a colour-class head: L (and hints) -> ab.

    L (B, 1, H, W) in [-1, 1] -> gray sRGB, three channels -> EfficientNet-Lite0 (features at strides 2..32)
    -> decoder: x2 resize + 3x3 convolutions, with the encoder's features at strides 16, 8 and 4 (skips) and,
       for a hint model, the hint raster averaged down to each of those strides
    -> logits over the ab bins (color_classes.py) at stride 4 -> annealed mean at temperature T (above 1: the
       mean, scaled towards gray by 1 / T) -> ab, resized
       to the input's size; ab in the model's scale (Lab ab / AB_SCALE), as the classic U-Net gives it.

With `classes = 0` the head regresses ab directly (tanh). The encoder's BatchNorm statistics stay as ImageNet
left them (their affine parameters train): training and inference compute the same thing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..color import lab_to_rgb
from ..color_classes import annealed_mean, gamut_bins
from ..colorspace import AB_SCALE, L_SCALE
from ..config import GeneratorConfig
from .base import Generator
from .effnet import FEATURE_CHANNELS, EfficientNetLite0, load_imagenet
from .norm import conv_bias, make_norm

# at each decoder level: mean hint ab (2), where any hint falls (1), the hinted fraction (1)
HINT_FEATURES = 4
SKIP_STRIDES = (16, 8, 4)  # decoder levels; the encoder's stride-2 features are not used
MATCH_STRIDE = 8  # features for matching a reference photo (autocolor.reference): strides 8 and 16, at 8


def _conv(cin: int, cout: int, norm: str) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 1, 1, bias=conv_bias(norm)), make_norm(norm, cout), nn.ReLU(inplace=True)
    )


class ColorNet(Generator):
    def __init__(self, config: GeneratorConfig | None = None, pretrained: bool = False):
        super().__init__()
        self.config = cfg = config or GeneratorConfig(encoder="efficientnet-lite0", num_downs=5)
        if cfg.num_downs != 5:
            raise ValueError(f"generator.encoder {cfg.encoder} needs num_downs = 5 (stride 32)")
        self.encoder = EfficientNetLite0()
        if pretrained:
            load_imagenet(self.encoder)
        hint = HINT_FEATURES if cfg.hints else 0
        widths = (cfg.ngf * 2, cfg.ngf * 3 // 2, cfg.ngf)
        skips = dict(zip((2, 4, 8, 16, 32), FEATURE_CHANNELS, strict=True))
        self.levels = nn.ModuleList()
        cin = skips[32]
        for stride, w in zip(SKIP_STRIDES, widths, strict=True):
            self.levels.append(
                nn.Sequential(_conv(cin + skips[stride] + hint, w, cfg.norm), _conv(w, w, cfg.norm))
            )
            cin = w
        out = cfg.classes or cfg.out_channels
        self.head = nn.Sequential(_conv(cin + hint, cin, cfg.norm), nn.Conv2d(cin, out, 1))
        if cfg.classes:
            centres = gamut_bins()
            if len(centres) != cfg.classes:
                raise ValueError(
                    f"generator.classes is {cfg.classes}, but the ab gamut has {len(centres)} bins"
                )
            self.register_buffer("centres", centres)
            self.register_buffer("class_weights", torch.ones(len(centres)))  # set from the training photos

    def train(self, mode: bool = True) -> ColorNet:
        super().train(mode)
        for m in self.encoder.modules():  # ImageNet's statistics, always
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    def forward(
        self,
        x: torch.Tensor,
        temperature: torch.Tensor | float | None = None,
        with_logits: bool = False,
        with_features: bool = False,
    ):
        """x (B, input_channels, H, W), H and W multiples of 32 -> ab (B, 2, H, W); with `with_logits`, also
        the head's output at stride 4 (class logits, or ab for a regression head); with `with_features`, also
        the encoder's features for matching (see `match_features`)."""
        c = self.config.in_channels
        L, hints = x[:, :c], x[:, c:]
        gray = lab_to_rgb(
            torch.cat([(L[:, :1] + 1.0) * L_SCALE, torch.zeros_like(L[:, :1]).expand(-1, 2, -1, -1)], 1)
        )
        feats = dict(zip((2, 4, 8, 16, 32), self.encoder.features(self.encoder.normalize(gray)), strict=True))
        y = feats[32]
        for stride, level in zip(SKIP_STRIDES, self.levels, strict=True):
            y = F.interpolate(y, scale_factor=2.0, mode="nearest")
            y = level(torch.cat([y, feats[stride], *self._hints_at(hints, stride)], 1))
        out = self.head(torch.cat([y, *self._hints_at(hints, SKIP_STRIDES[-1])], 1))
        if self.config.classes:
            T = torch.as_tensor(self.config.temperature if temperature is None else temperature)
            # T <= 1: the annealed mean (sharper, bolder, as T falls); T > 1: the mean's colour scaled towards
            # gray by 1 / T (a plain softmax at T > 1 drifts to the gamut's centre, a pink cast, not to gray)
            ab = annealed_mean(out, self.centres, T.clamp(max=1.0)) * T.reciprocal().clamp(max=1.0) / AB_SCALE
        else:
            ab = torch.tanh(out)
        ab = F.interpolate(ab, size=x.shape[-2:], mode="bilinear", align_corners=False)
        extra = ([out] if with_logits else []) + ([self.match_features(feats)] if with_features else [])
        return (ab, *extra) if extra else ab

    @staticmethod
    def match_features(feats: dict[int, torch.Tensor]) -> torch.Tensor:
        """The encoder's stride-8 and stride-16 features (the latter repeated to stride 8), each unit-length
        per position, side by side and scaled so the whole is unit-length: (B, 40 + 112, H / 8, W / 8). Their
        dot product is a cosine similarity that weighs texture (stride 8) and parts (stride 16) alike."""
        f8 = F.normalize(feats[8], dim=1)
        f16 = F.interpolate(F.normalize(feats[16], dim=1), scale_factor=2.0, mode="nearest")
        return torch.cat([f8, f16], 1) * (0.5**0.5)

    def _hints_at(self, hints: torch.Tensor, stride: int) -> list[torch.Tensor]:
        """The hint raster averaged down by `stride` (see HINT_FEATURES); nothing for a hint-free model."""
        if not self.config.hints:
            return []
        ab, mask = hints[:, :2], hints[:, 2:3]
        area = F.avg_pool2d(mask, stride)
        ab = F.avg_pool2d(ab * mask, stride) / area.clamp_min(1e-6)
        return [ab, (area > 0).to(area.dtype), area]
