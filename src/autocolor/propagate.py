"""Colour hints spread over the photo along its lightness: edge-aware propagation of the corrections the
user's points ask for, on any model, without training (numpy only).

    correction at each hint = hint ab - predicted ab there
    spread = domain-transform recursive filter (Gastal & Oliveira 2011, "Domain Transform for Edge-Aware
             Image and Video Processing") of correction x mask and of the mask, guided by the lightness L:
             it travels far across flat regions and stops at edges
    ab' = ab + spread(correction x mask) / max(spread(mask), reach x spread of one lone hint at its centre)

The `max` makes the correction fade out where no hint reaches, instead of tinting the whole photo; within
a hint's region the correction is the hints' own, so the colour at a point is the colour asked for.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

ITERATIONS = 3  # horizontal + vertical passes, with shrinking spatial sigma (the paper's schedule)


def _recursive_pass(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """One left-to-right then right-to-left recursive filter along the last axis; a: per-step feedback."""
    y = x.copy()
    for j in range(1, x.shape[-1]):
        y[..., j] += a[..., j] * (y[..., j - 1] - y[..., j])
    for j in range(x.shape[-1] - 2, -1, -1):
        y[..., j] += a[..., j + 1] * (y[..., j + 1] - y[..., j])
    return y


def domain_transform(x: np.ndarray, guide: np.ndarray, sigma_s: float, sigma_r: float) -> np.ndarray:
    """Edge-aware smoothing of x (C, h, w) guided by `guide` (h, w): spatial sigma in pixels, range sigma in
    guide units."""
    dx = 1.0 + sigma_s / sigma_r * np.abs(np.diff(guide, axis=1, prepend=guide[:, :1]))
    dy = 1.0 + sigma_s / sigma_r * np.abs(np.diff(guide, axis=0, prepend=guide[:1]))
    y = x.astype(np.float64)
    for i in range(ITERATIONS):
        sigma = sigma_s * np.sqrt(3.0) * 2.0 ** (ITERATIONS - i - 1) / np.sqrt(4.0**ITERATIONS - 1.0)
        base = np.exp(-np.sqrt(2.0) / sigma)
        y = _recursive_pass(y, base**dx)
        y = np.swapaxes(_recursive_pass(np.swapaxes(y, 1, 2), np.swapaxes(base**dy, 0, 1)), 1, 2)
    return y


def propagate_hints(
    ab: np.ndarray,
    lightness: np.ndarray,
    raster: np.ndarray,
    sigma_s: float,
    sigma_r: float,
    reach: float = 0.25,
) -> np.ndarray:
    """ab (2, h, w) and the hint raster (3, h, w) (hint ab, mask; as hints.hint_raster) in the same scale;
    lightness (h, w) in Lab L units -> ab with the hints' corrections spread over their regions."""
    mask = raster[2:3]
    if not mask.any() or sigma_s <= 0:
        return ab
    correction = (raster[:2] - ab) * mask
    spread = domain_transform(np.concatenate([correction, mask]), lightness, sigma_s, sigma_r)
    floor = reach * _lone_strength(*mask.shape[1:], sigma_s)
    return (ab + spread[:2] / np.maximum(spread[2:3], floor)).astype(np.float32)


@lru_cache(maxsize=32)
def _lone_strength(h: int, w: int, sigma_s: float) -> float:
    """How strong one hint square is at its own centre, on flat ground in an h x w image: the scale of
    `reach` (the same for every photo of that render shape, so it is worked out once)."""
    lone = np.zeros((1, h, w))
    cy, cx = h // 2, w // 2
    lone[0, cy - 1 : cy + 2, cx - 1 : cx + 2] = 1.0
    return float(domain_transform(lone, np.zeros((h, w)), sigma_s, 1.0)[0, cy, cx])
