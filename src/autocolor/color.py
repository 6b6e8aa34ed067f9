"""Colour maths: sRGB <-> CIE Lab (D65, 2 degree observer) on torch tensors, and the model's scaling.

The conversions are kornia's (a port of scikit-image's rgb2lab/lab2rgb): batched, differentiable, on any
device. This module adds the one place where the network's scaling lives:

    L  in [0, 100]        <->  L / 50 - 1    in [-1, 1]
    ab in about [-110, 110] <->  ab / 110    in about [-1, 1]

"Gray" everywhere in autocolor (dataset tools, training inputs, colorizing) means the Lab lightness L of the
photo with a = b = 0, rendered back to sRGB: the exact image the network sees.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from kornia.color import lab_to_rgb as _lab_to_rgb
from kornia.color import linear_rgb_to_rgb, rgb_to_linear_rgb, rgb_to_xyz, xyz_to_rgb
from kornia.color import rgb_to_lab as _rgb_to_lab

L_SCALE = 50.0
AB_SCALE = 110.0


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


# --- full-resolution fast paths --------------------------------------------------------------------------
# The same conversions as above, for photos of many megapixels: 8-bit values go through lookup tables, the
# piecewise Lab curves are written without branches, work is done in strips of rows (bounded memory, warm
# caches), and every constant is taken from kornia itself. tests/test_color.py checks both against kornia.

_STRIP_PIXELS = 1 << 17
_LEVELS = 1 << 16  # quantisation of linear values in [0, 1] for the lookup tables
_WHITE = (0.95047, 1.0, 1.08883)  # D65, as kornia's rgb_to_lab
_T = 0.2068966  # Lab's f^-1 switches from linear to cubic here (f(0.008856))


@functools.cache
def _tables() -> dict[str, np.ndarray]:
    with torch.no_grad():
        eye = torch.eye(3, dtype=torch.float64)[:, :, None, None]  # pure linear R, G, B
        to_y = rgb_to_xyz(eye)[:, 1, 0, 0]  # Y of each primary
        xyz_to_lin = xyz_to_rgb(eye)[:, :, 0, 0].T * torch.tensor(_WHITE, dtype=torch.float64)[None, :]
        levels = torch.arange(256, dtype=torch.float64) / 255.0
        to_linear = rgb_to_linear_rgb(levels.expand(3, 256)[None, :, :, None])[0, 0, :, 0]
        y = torch.arange(_LEVELS, dtype=torch.float64) / (_LEVELS - 1)
        gray = linear_rgb_to_rgb(y.expand(3, -1)[None, :, :, None])  # the sRGB gray whose linear value is y
        fy = (rgb_to_lab(gray)[0, 0, :, 0] + 16.0) / 116.0
        grays = levels.expand(3, 256)[None, :, :, None]  # the 256 sRGB grays
        fy_gray = (rgb_to_lab(grays)[0, 0, :, 0] + 16.0) / 116.0
        lin = torch.linspace(0.0, 1.0, _LEVELS, dtype=torch.float64)
        to_srgb8 = linear_rgb_to_rgb(lin.expand(3, -1)[None, :, :, None])[0, 0, :, 0].clamp(0, 1) * 255
    y_parts = (to_y[:, None] * to_linear[None, :] * (_LEVELS - 1)).numpy()  # (3, 256): R, G, B share of Y
    return {
        "y_parts": y_parts.astype(np.float32),
        "fy": fy.float().numpy(),
        "fy_gray": fy_gray.float().numpy(),
        "xyz_to_lin": xyz_to_lin.float().numpy(),
        "to_srgb8": to_srgb8.round().to(torch.uint8).numpy(),
    }


def _f_inv(t: torch.Tensor) -> torch.Tensor:
    """Lab's inverse companding, branch-free: cube above _T, the matching line below it."""
    return t.clamp(min=_T).pow_(3.0).add_((t - _T).clamp_(max=0.0).div_(7.787))


def _strips(height: int, width: int):
    rows = max(1, _STRIP_PIXELS // max(width, 1))
    for top in range(0, height, rows):
        yield slice(top, min(top + rows, height))


def lightness_f(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 sRGB -> fy = (L + 16) / 116 (H, W) float32, the form `lab_to_rgb_uint8` takes.

    L = 116 fy - 16 matches `rgb_to_lab` to about 0.02 (Y is quantised to 16 bits on the way).
    """
    t = _tables()
    out = np.empty(rgb.shape[:2], dtype=np.float32)
    for rows in _strips(*rgb.shape[:2]):
        block = rgb[rows]
        r = block[..., 0]
        if np.array_equal(r, block[..., 1]) and np.array_equal(r, block[..., 2]):  # gray: one small table
            np.take(t["fy_gray"], r, out=out[rows])
            continue
        y = np.take(t["y_parts"][0], r)
        y += np.take(t["y_parts"][1], block[..., 1])
        y += np.take(t["y_parts"][2], block[..., 2])
        np.take(t["fy"], np.rint(y, out=y).astype(np.int32).clip(0, _LEVELS - 1), out=out[rows])
    return out


def lightness(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 sRGB -> L (H, W) float32 in [0, 100]."""
    return lightness_f(rgb) * 116.0 - 16.0


def lab_to_rgb_uint8(fy: np.ndarray, ab_rows) -> np.ndarray:
    """fy = (L + 16) / 116 (H, W) float32 and ab -> (H, W, 3) uint8 sRGB, as `lab_to_rgb` then rounding.

    `ab_rows(rows)` returns ab (2, r, W) float32, about [-110, 110], for a slice of rows, so the caller can
    produce ab strip by strip (e.g. upsampling it) without a full-resolution copy.
    """
    t = _tables()
    m = t["xyz_to_lin"]
    H, W = fy.shape
    out = np.empty((H, W, 3), dtype=np.uint8)
    for rows in _strips(H, W):
        f = torch.from_numpy(fy[rows])
        ab = ab_rows(rows)
        x = _f_inv(ab[0].div(500.0).add_(f))
        y = _f_inv(f.clone())
        z = _f_inv(f.sub(ab[1].div(200.0)).clamp_(min=0.0))
        lin = [
            x.mul(float(m[c, 0])).add_(y, alpha=float(m[c, 1])).add_(z, alpha=float(m[c, 2]))
            for c in range(3)
        ]
        _into_gamut(lin, y)
        for c in range(3):
            idx = lin[c].clamp_(0.0, 1.0).mul_(_LEVELS - 1).add_(0.5).to(torch.int32).numpy()
            out[rows][..., c] = np.take(t["to_srgb8"], idx)
    return out


def _into_gamut(lin: list[torch.Tensor], y: torch.Tensor) -> None:
    """Pull out-of-gamut linear RGB towards the gray of the same luminance Y, in place, just enough to fit.

    Mixing with gray keeps Y (so L) exactly, where clipping each channel would change it.
    """
    if all(c.min() >= 0.0 and c.max() <= 1.0 for c in lin):
        return
    k = torch.ones_like(y)
    room_up, room_down = (1.0 - y).clamp_(min=0.0), y.clamp(min=0.0)
    for c in lin:
        d = c - y
        k = torch.minimum(k, room_up / d.clamp(min=1e-9))
        k = torch.minimum(k, room_down / d.neg_().clamp_(min=1e-9))
    for c in lin:
        c.sub_(y).mul_(k).add_(y)
