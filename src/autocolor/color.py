"""Colour maths: sRGB <-> CIE Lab (D65, 2 degree observer) on torch tensors, and the model's scaling.

The conversions are kornia's (a port of scikit-image's rgb2lab/lab2rgb): batched, differentiable, on any
device. This module adds the one place where the network's scaling lives:

    L  in [0, 100]        <->  L / 50 - 1    in [-1, 1]
    ab in about [-110, 110] <->  ab / 110    in about [-1, 1]

"Gray" everywhere in autocolor (dataset tools, training inputs, colorizing) means the Lab lightness L of the
photo with a = b = 0, rendered back to sRGB: the exact image the network sees.
"""

from __future__ import annotations

import numpy as np
import torch
from kornia.color import lab_to_rgb as _lab_to_rgb
from kornia.color import rgb_to_lab as _rgb_to_lab

from .colorspace import AB_SCALE, L_SCALE  # noqa: F401  (colorspace.py holds the constants, torch-free)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB (..., 3, H, W) in [0, 1] -> Lab (..., 3, H, W): L in [0, 100], a and b in about [-110, 110]."""
    return _rgb_to_lab(rgb)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Lab (..., 3, H, W) -> sRGB (..., 3, H, W) clipped to [0, 1]."""
    return _lab_to_rgb(lab, clip=True)


def normalize_l(L: torch.Tensor) -> torch.Tensor:
    """L in [0, 100] -> [-1, 1]."""
    return L / L_SCALE - 1.0


def denormalize_l(L: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> L in [0, 100]."""
    return (L + 1.0) * L_SCALE


def normalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """ab in about [-110, 110] -> about [-1, 1]."""
    return ab / AB_SCALE


def denormalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """ab in [-1, 1] (clamped first) -> [-110, 110]."""
    return ab.clamp(-1.0, 1.0) * AB_SCALE


def rgb_to_model(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB (B, 3, H, W) in [0, 1] -> (L (B, 1, H, W) in [-1, 1], ab (B, 2, H, W) in about [-1, 1])."""
    lab = rgb_to_lab(rgb)
    return normalize_l(lab[:, :1]), normalize_ab(lab[:, 1:])


def model_to_rgb(L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """(L (B, 1, H, W) in [-1, 1], ab (B, 2, H, W)) -> sRGB (B, 3, H, W) in [0, 1]; ab is clamped to [-1, 1]."""
    lab = torch.cat([denormalize_l(L), denormalize_ab(ab)], dim=1)
    return lab_to_rgb(lab.float())


def uint8_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) or (B, H, W, 3) uint8 -> float (B, 3, H, W) in [0, 1]."""
    rgb = np.ascontiguousarray(rgb)
    t = torch.from_numpy(rgb if rgb.flags.writeable else rgb.copy())
    if t.ndim == 3:
        t = t.unsqueeze(0)
    return t.permute(0, 3, 1, 2).float().div_(255.0)


def tensor_to_uint8(rgb: torch.Tensor) -> np.ndarray:
    """float (B, 3, H, W) or (3, H, W) in [0, 1] -> uint8 (B, H, W, 3) or (H, W, 3), rounded."""
    t = rgb.detach().float().clamp(0.0, 1.0).mul(255.0).round_().to(torch.uint8)
    t = t.permute(0, 2, 3, 1) if t.ndim == 4 else t.permute(1, 2, 0)
    return t.cpu().numpy()


def gray_uint8(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 photo -> (H, W, 3) uint8 gray: its Lab lightness with a = b = 0, three equal channels."""
    with torch.no_grad():
        lab = rgb_to_lab(uint8_to_tensor(rgb))
        lab[:, 1:] = 0.0
        gray = lab_to_rgb(lab).mean(dim=1, keepdim=True)  # the channels agree to ~1e-4; make them equal
        return tensor_to_uint8(gray.expand(-1, 3, -1, -1))[0]
