"""Normalisation layers by name: the one registry both networks share."""

from __future__ import annotations

from torch import nn


def _group(channels: int) -> nn.Module:
    return nn.GroupNorm(min(32, channels // 4) or 1, channels)


NORMS = {
    "batch": lambda c: nn.BatchNorm2d(c),
    "instance": lambda c: nn.InstanceNorm2d(c, affine=False),
    "group": _group,
    "none": lambda c: nn.Identity(),
}


def make_norm(name: str, channels: int) -> nn.Module:
    if name not in NORMS:
        raise ValueError(f"unknown norm '{name}'; choose one of {', '.join(NORMS)}")
    return NORMS[name](channels)


def conv_bias(norm: str) -> bool:
    """A conv followed by a norm with its own shift needs no bias (pix2pix: bias only with instance norm)."""
    return norm in ("instance", "none")
