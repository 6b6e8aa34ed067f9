"""The full-resolution colour path, written once in PyTorch and exported to ONNX: every backend runs it.

Two small modules, each a pure function of its inputs (their constants are colorspace's, held to kornia's
conversions by tests, so they agree with `color.rgb_to_lab` / `color.lab_to_rgb`); the photo's lightness fy
= (L + 16) / 116 comes before them, from `colorspace.srgb_to_fy` (numpy: a table lookup per level):

    Guide      ab (2, h, w) network output in [-1, 1], fy (h, w) at render size,
               gain, radius, eps -> coef (4, h, w): a guided filter's linear model per render pixel
    Compose    fy strip (r, W), coef (4, h, w), top row, full height -> linear RGB strip (r, W, 4) uint16,
               which `colorspace.linear_to_srgb` turns into sRGB uint8 (a table lookup)

Guided upsampling is the fast guided filter (He and Sun 2015): the filter's coefficients are fitted at render
size, where the network's ab and the lightness it saw are both known, then upsampled bilinearly and applied to
the full-resolution lightness, so colour edges follow the photo's own edges instead of bleeding across them.
Radius 0 is plain bilinear upsampling of ab. Compose works on strips of rows, so memory stays bounded.

The PyTorch backend calls these modules; `onnx_export.export_composer` writes them as guide.onnx and
compose.onnx for onnxruntime. The browser runs guide.onnx; its per-pixel steps (lightness and compose) are
static/local/colour.js, the same maths in JavaScript, held to the server's results by the real-browser tests.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .colorspace import AB_SCALE, LINEAR_LEVELS, xyz_to_linear

_T = 0.2068966  # Lab's f^-1 switches from linear to cubic here (f(0.008856))


def _piecewise(x: torch.Tensor, knee: float, curve, slope: float, low: float | None = None) -> torch.Tensor:
    """curve(x) above `knee`, the line of `slope` through (knee, curve(knee)) below it, without a branch
    (the Lab and sRGB curves are continuous there): curve(max(x, knee)) + slope * (min(x, knee) - knee);
    of max(x, low) where `low` is given (one clamp does both)."""
    return curve(x.clamp(min=knee)) + (x.clamp(low, knee) - knee) * slope


def _box(x: torch.Tensor, radius: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean over a window of +-radius along `dim` (windows clipped at the borders), by cumulative sums."""
    n = x.shape[dim]
    pad_shape = list(x.shape)
    pad_shape[dim] = 1
    c = torch.cat([torch.zeros(pad_shape, dtype=x.dtype), torch.cumsum(x, dim=dim)], dim=dim)
    i = torch.arange(n, dtype=torch.int64)
    lo = (i - radius).clamp(min=0)
    hi = torch.minimum(i + radius + 1, torch.tensor(n, dtype=torch.int64))
    total = torch.index_select(c, dim, hi) - torch.index_select(c, dim, lo)
    shape = [1] * x.ndim
    shape[dim] = n
    return total / (hi - lo).to(x.dtype).reshape(shape)


def box_mean(x: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """(C, h, w) -> (C, h, w): mean over the (2 radius + 1)^2 window around each pixel, clipped at borders."""
    return _box(_box(x, radius, 1), radius, 2)


class Guide(nn.Module):
    """The network's ab at render size -> per-pixel linear models of ab in lightness (fast guided filter).

    ab: (2, h, w) network output in about [-1, 1]; fy: (h, w) lightness the network saw, as (L + 16) / 116;
    gain: () chroma gain; radius: () int64 window radius in render pixels (0 = plain bilinear upsampling);
    eps: () regularisation in fy^2 units (larger = smoother, closer to bilinear); row: (W,) any row of the
    full-res photo (only its length, the width, is used). Returns coef (4, h, W): (A_a, A_b, B_a, B_b) with ab ~ A * fy + B in Lab units,
    already upsampled along rows (bilinearly), so `Compose` only interpolates between two rows.
    """

    def forward(
        self,
        ab: torch.Tensor,
        fy: torch.Tensor,
        gain: torch.Tensor,
        radius: torch.Tensor,
        eps: torch.Tensor,
        row: torch.Tensor,
    ) -> torch.Tensor:
        p = (ab * gain).clamp(-1.0, 1.0) * AB_SCALE
        g = fy - fy.mean()  # centred, so the cumulative sums stay small and exact enough in float32
        p_mean = p.mean(dim=(1, 2), keepdim=True)
        pc = p - p_mean
        stats = box_mean(torch.cat([g[None], (g * g)[None], pc, g[None] * pc], dim=0), radius)
        mean_g, var_g = stats[0:1], stats[1:2] - stats[0:1] * stats[0:1]
        mean_p, cov = stats[2:4], stats[4:6] - stats[0:1] * stats[2:4]
        a = cov / (var_g.clamp(min=0.0) + eps)
        b = mean_p - a * mean_g
        ab_model = box_mean(torch.cat([a, b], dim=0), radius)
        # back from the centred variables: ab = A (fy - m) + B + p_mean = A fy + (B + p_mean - A m)
        slope = ab_model[0:2]
        coef = torch.cat([slope, ab_model[2:4] + p_mean - slope * fy.mean()], dim=0)
        size = (coef.shape[1], row.shape[0])
        return F.interpolate(coef[None], size=size, mode="bilinear", align_corners=False)[0]


class Compose(nn.Module):
    """Full-resolution lightness + render-size guided-filter coefficients -> linear RGB, one strip of rows.

    fy: (r, W) rows [top, top + r) of the full-res lightness as (L + 16) / 116; coef: (4, h, W) from `Guide`;
    top, height: () int64, the strip's first row and the photo's height. Returns (r, W, 4) uint16: linear
    (not yet sRGB-encoded) R, G, B in 1/65535ths, in gamut, and G again; `colorspace.linear_to_srgb` encodes
    them with a lookup table, an order of magnitude cheaper than the sRGB curve in onnxruntime. The fourth
    value fills 4-byte pixels: the layout Pillow keeps RGB images in (RGBX), so a result goes to Pillow (and
    to a JPEG file) without being copied. Out-of-gamut colours are pulled towards the gray of the same
    luminance, so L is kept exactly. Everything is planar and elementwise: the ops onnxruntime runs fastest.
    """

    def __init__(self):
        super().__init__()
        self.m = xyz_to_linear().tolist()  # rows: linear R, G, B from (X/Xn, Y, Z/Zn); colour.js has it too

    def forward(
        self, fy: torch.Tensor, coef: torch.Tensor, top: torch.Tensor, height: torch.Tensor
    ) -> torch.Tensor:
        # a / 500 and b / 200 (Lab's steps from f(Y) to f(X) and f(Z)) straight from the coefficient rows
        slope_a, slope_b, offset_a, offset_b = _rows(
            coef, top, fy.shape[0], height, (500.0, 200.0, 500.0, 200.0)
        )
        a = (slope_a * fy + offset_a).clamp(-AB_SCALE / 500.0, AB_SCALE / 500.0)
        b = (slope_b * fy + offset_b).clamp(-AB_SCALE / 200.0, AB_SCALE / 200.0)
        x = _f_inv(fy + a)
        y = _f_inv(fy)
        z = _f_inv(fy - b, low=0.0)
        # each channel's difference from the gray of the same luminance (the matrix's Y column less 1)
        d = [x * m[0] + y * (m[1] - 1.0) + z * m[2] for m in self.m]
        levels = _into_gamut(d, y, float(LINEAR_LEVELS))
        r, g, b = (c.to(torch.uint16) for c in levels)
        return torch.stack([r, g, b, g], dim=-1)  # a 4th value per pixel: see the docstring


def _rows(
    coef: torch.Tensor, top: torch.Tensor, r: int, height: torch.Tensor, divisors
) -> list[torch.Tensor]:
    """Each channel c of coef (C, h, W) at rows [top, top + r) of `height`, bilinearly, divided by
    divisors[c]: a MatMul of the few coefficient rows the strip spans by an (r, k) matrix of weights, cheaper
    in onnxruntime than gathering two rows and mixing them (and the division is free, in the small matrix)."""
    i0, i1, wy = _taps(top, r, height, coef.shape[1])
    span = i0[0] + torch.arange(i1[-1] - i0[0] + 1, dtype=torch.int64)  # the k rows it spans
    weights = (span[None, :] == i0[:, None]).to(torch.float32) * (1.0 - wy)[:, None]
    weights = weights + (span[None, :] == i1[:, None]).to(torch.float32) * wy[:, None]
    rows = torch.index_select(coef, 1, span)
    return [torch.matmul(weights * (1.0 / divisors[c]), rows[c]) for c in range(coef.shape[0])]


def _taps(out_start: torch.Tensor, out_len: int, out_size: torch.Tensor, in_size: int):
    """Bilinear (align_corners=False) source rows and weights for output rows out_start + [0, out_len)."""
    pos = torch.arange(out_len, dtype=torch.float32) + out_start.to(torch.float32)
    src = ((pos + 0.5) * (in_size / out_size.to(torch.float32)) - 0.5).clamp(min=0.0)
    i0 = src.floor().to(torch.int64).clamp(max=in_size - 1)
    i1 = (i0 + 1).clamp(max=in_size - 1)
    return i0, i1, src - i0.to(torch.float32)


def _f_inv(t: torch.Tensor, low: float | None = None) -> torch.Tensor:
    """Lab's inverse companding of max(t, low): cube above _T, the matching line below it."""
    return _piecewise(t, _T, lambda c: c * c * c, 1.0 / 7.787, low)


def _into_gamut(d: list[torch.Tensor], y: torch.Tensor, scale: float) -> list[torch.Tensor]:
    """Linear R, G, B given as differences `d` from the gray of their luminance y -> the colour mixed with that
    gray just enough to fit in [0, 1], times `scale`, plus 0.5 (ready to truncate to integer levels).

    Mixing with gray keeps Y (so L) exactly, where clipping each channel would change it. The channel furthest
    above y bounds the mix from above, the one furthest below from below (elementwise Max / Min / Div only).
    """
    above = torch.maximum(torch.maximum(d[0], d[1]), d[2])
    below = torch.minimum(torch.minimum(d[0], d[1]), d[2])
    k = torch.minimum((1.0 - y) / above.clamp(min=1e-9), y / (-below).clamp(min=1e-9)).clamp(0.0, 1.0)
    k, gray = k * scale, y * scale + 0.5
    return [gray + dc * k for dc in d]
