"""CIE Lab as autocolor uses it, in one place: the constants and the small pure conversions between the photo's
lightness, the network's scale and sRGB colours (numpy, torch-free; as kornia keeps its colour maths in one
module). color.py (PyTorch, kornia's conversions) and composer.py (the exported colour path) take their
constants from here; the colorizing front end, hints, references, video and validation use these functions.

    fy = (L + 16) / 116        how the colour path carries lightness (Lab's f(Y)); L in [0, 100]
    network input              L / L_SCALE - 1, in [-1, 1]; then, for a hint model, HINT_CHANNELS more
    network output             ab / AB_SCALE, in about [-1, 1]
"""

from __future__ import annotations

import functools

import numpy as np

L_SCALE = 50.0
AB_SCALE = 110.0
WHITE_D65 = (0.95047, 1.0, 1.08883)  # the reference white's X, Y, Z, as kornia's rgb_to_lab
RGB_TO_XYZ = ((0.412453, 0.357580, 0.180423),
              (0.212671, 0.715160, 0.072169),
              (0.019334, 0.119193, 0.950227))  # fmt: skip  # linear sRGB -> XYZ (D65), as kornia
XYZ_TO_RGB = ((3.2404813432005266, -1.5371515162713185, -0.4985363261688878),
              (-0.9692549499965682, 1.8759900014898907, 0.0415559265582928),
              (0.0556466391351772, -0.2040413383665112, 1.0573110696453443))  # fmt: skip  # kornia's xyz_to_rgb
LINEAR_LEVELS = 65535  # the colour path carries linear RGB as 16-bit levels to its last step, linear_to_srgb
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


_KNEE = 0.008856  # Lab's f switches from the line to the cube root here (kornia's rgb_to_lab)


def _decode(v: np.ndarray) -> np.ndarray:
    """sRGB values in [0, 1] -> linear light (kornia's rgb_to_linear_rgb)."""
    return np.where(v > 0.04045, ((v + 0.055) / 1.055) ** 2.4, v / 12.92)


def _f(t: np.ndarray) -> np.ndarray:
    """Lab's companding of X/Xn, Y or Z/Zn."""
    return np.where(t > _KNEE, np.cbrt(t), 7.787 * t + 4.0 / 29.0)


def rgb_to_ab(colors) -> np.ndarray:
    """sRGB colours, (N, 3) uint8 or a list of (r, g, b) -> their Lab (a, b), (N, 2) float32 in about
    [-110, 110]."""
    lin = _decode(np.asarray(colors, dtype=np.float64).reshape(-1, 3) / 255.0)
    f = _f(lin @ np.asarray(RGB_TO_XYZ).T / np.asarray(WHITE_D65))
    return np.stack([500.0 * (f[:, 0] - f[:, 1]), 200.0 * (f[:, 1] - f[:, 2])], axis=1).astype(np.float32)


@functools.cache
def _linear_table() -> np.ndarray:
    """Linear light of the 256 sRGB levels, float32."""
    table = _decode(np.arange(256) / 255.0).astype(np.float32)
    table.flags.writeable = False
    return table


def srgb_to_fy(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 sRGB (or (..., 1): gray levels) -> the colour path's lightness fy = (L + 16) / 116, (...)
    float32, as kornia's rgb_to_lab gives L (within 1e-6): a lookup of each level's linear light, their
    luminance, Lab's curve. The Colorizer runs it strip by strip; the browser gets the 256 gray levels' values
    from its manifest and runs the same steps in JavaScript (static/local/colour.js)."""
    lin = np.take(_linear_table(), rgb, mode="wrap")
    return _f(lin[..., 0] if rgb.shape[-1] == 1 else lin @ luminance()).astype(np.float32)


def luminance() -> np.ndarray:
    """The weights of linear R, G, B in Y (kornia's rgb_to_xyz), float32, scaled to sum to 1."""
    w = np.asarray(RGB_TO_XYZ[1], dtype=np.float32)
    return w / w.sum()


def xyz_to_linear() -> np.ndarray:
    """The 3 x 3 float32 matrix from (X/Xn, Y, Z/Zn) (Lab's own scale) to linear R, G, B, row by row."""
    return (np.asarray(XYZ_TO_RGB) * np.asarray(WHITE_D65)[None, :]).astype(np.float32)


@functools.cache
def _srgb_table() -> np.ndarray:
    """sRGB uint8 of each of the 65,536 linear levels (the sRGB curve, as kornia's linear_rgb_to_rgb)."""
    t = np.arange(LINEAR_LEVELS + 1, dtype=np.float64) / LINEAR_LEVELS
    encoded = np.where(t > 0.0031308, 1.055 * t ** (1 / 2.4) - 0.055, 12.92 * t)
    table = np.floor(encoded * 255.0 + 0.5).astype(np.uint8)
    table.flags.writeable = False
    return table


def linear_to_srgb(levels: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Linear RGB as 16-bit levels (the colour path's `Compose` output) -> sRGB uint8, same shape (into `out`
    if given): one lookup per value; within 0.03 of a level of the exact curve."""
    return np.take(_srgb_table(), levels, out=out, mode="wrap")  # (no index check: every uint16 is in)


@functools.cache
def gray_fy() -> np.ndarray:
    """fy of the 256 gray levels (srgb_to_fy's own values): a gray photo's lightness is a lookup."""
    table = srgb_to_fy(np.arange(256, dtype=np.uint8)[:, None])
    table.flags.writeable = False
    return table
