"""What every generator shares: the shape of its input."""

from __future__ import annotations

from torch import nn

from ..colorspace import input_channels
from ..config import GeneratorConfig


class Generator(nn.Module):
    config: GeneratorConfig

    @property
    def input_channels(self) -> int:
        """L (in_channels), plus hint ab and mask when the generator takes colour hints."""
        return input_channels(self.config)

    @property
    def multiple(self) -> int:
        """Input sides must be multiples of this."""
        return 2**self.config.num_downs
