"""CIE Lab as autocolor uses it, in one place: the constants and the small pure conversions between the photo's
lightness, the network's scale and sRGB colours (numpy, torch-free; as kornia keeps its colour maths in one
module). color.py (PyTorch, kornia's conversions) and composer.py (the exported colour path) take their
constants from here; the colorizing front end, hints, references, video and validation use these functions.

    fy = (L + 16) / 116        how the colour path carries lightness (Lab's f(Y)); L in [0, 100]
    network input              L / L_SCALE - 1, in [-1, 1]; then, for a hint model, HINT_CHANNELS more
    network output             ab / AB_SCALE, in about [-1, 1]
"""

from __future__ import annotations

import numpy as np

L_SCALE = 50.0
AB_SCALE = 110.0
WHITE_D65 = (0.95047, 1.0, 1.08883)  # the reference white's X, Y, Z, as kornia's rgb_to_lab
RGB_TO_XYZ = ((0.412453, 0.357580, 0.180423),
              (0.212671, 0.715160, 0.072169),
              (0.019334, 0.119193, 0.950227))  # fmt: skip  # linear sRGB -> XYZ (D65), as kornia
HINT_CHANNELS = 3  # after L: a hint's a and b (in the network's scale) and the mask, see autocolor.hints


def input_channels(config) -> int:
    """The network's input channels for a GeneratorConfig: L (in_channels), then the hint raster if it has one."""
    return config.in_channels + (HINT_CHANNELS if config.hints else 0)


def fy_to_L(fy: np.ndarray) -> np.ndarray:
    """The colour path's lightness (L + 16) / 116 -> Lab L in [0, 100]."""
    return fy * 116.0 - 16.0


def fy_to_network(fy: np.ndarray) -> np.ndarray:
    """The colour path's lightness -> the network's input channel L / L_SCALE - 1."""
    return fy * (116.0 / L_SCALE) - (16.0 / L_SCALE + 1.0)


def L_to_uint8(L: np.ndarray) -> np.ndarray:
    """Lab L in [0, 100] -> 0-255 levels (a gray picture of the lightness, e.g. for optical flow)."""
    return np.clip(np.rint(L * 2.55), 0, 255).astype(np.uint8)


def rgb_to_ab(colors) -> np.ndarray:
    """sRGB colours, (N, 3) uint8 or a list of (r, g, b) -> their Lab (a, b), (N, 2) float32 in about
    [-110, 110]."""
    rgb = np.asarray(colors, dtype=np.float64).reshape(-1, 3) / 255.0
    lin = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = lin @ np.asarray(RGB_TO_XYZ).T / np.asarray(WHITE_D65)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 4.0 / 29.0)
    return np.stack([500.0 * (f[:, 0] - f[:, 1]), 200.0 * (f[:, 1] - f[:, 2])], axis=1).astype(np.float32)
