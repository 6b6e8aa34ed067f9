"""Colour as classes (Zhang et al. 2016, "Colorful Image Colorization"): ab quantised on a grid, soft targets,
class rebalancing, and the annealed-mean readout.

    bins        the ab grid points (GRID Lab units apart) that some sRGB colour falls on: the sRGB gamut in ab
    soft target each pixel's truth spread over its K nearest bins with Gaussian weights (sigma SIGMA)
    priors      how often each bin is the nearest one in the training photos, smoothed by a Gaussian over ab
    weights     1 / (half the smoothed prior + half uniform), normalised so the pixels' mean weight is 1: rare,
                saturated colours count more, so the network does not settle for the common browns
    readout     softmax(logits / T) . bin centres: T = 1 is the mean (safe, dull), T -> 0 the mode (vivid)

Bins depend only on GRID (the gamut is the same for every data set); priors and weights come from the training
photos and are saved with the model as buffers, so a model folder carries everything its loss and readout used.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import torch
import torch.nn.functional as F

from .color import rgb_to_lab

GRID = 10.0  # Lab units between bin centres
SIGMA = 5.0  # soft-target Gaussian, Lab units
NEAREST = 5  # bins per soft target
PRIOR_SIGMA = 5.0  # smoothing of the priors over ab, Lab units
UNIFORM_MIX = 0.5  # weights = 1 / ((1 - mix) * prior + mix / Q)


def gamut_bins(grid: float = GRID, steps: int = 64) -> torch.Tensor:
    """(Q, 2) Lab ab centres of the grid cells any sRGB colour falls in (sampled on a `steps`^3 RGB cube),
    sorted by a then b. Computed once per process (it takes about 0.4 s); each call gets its own copy."""
    return _gamut_bins(grid, steps).clone()


@lru_cache(maxsize=4)
def _gamut_bins(grid: float, steps: int) -> torch.Tensor:
    v = torch.linspace(0.0, 1.0, steps)
    rgb = torch.stack(torch.meshgrid(v, v, v, indexing="ij")).reshape(3, -1, 1)
    ab = rgb_to_lab(rgb[None])[0, 1:, :, 0].T.double()
    cells = torch.unique(torch.round(ab / grid).long(), dim=0)
    return cells.float() * grid


def nearest_bins(ab: torch.Tensor, centres: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """ab (B, 2, h, w) Lab units -> squared distances and indices (B, k, h, w) of the k nearest bins."""
    d2 = (ab[:, None] - centres[None, :, :, None, None]).pow(2).sum(2)  # (B, Q, h, w)
    return torch.topk(d2, k, dim=1, largest=False)


def soft_targets(ab: torch.Tensor, centres: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ab (B, 2, h, w) in Lab units -> soft targets (B, Q, h, w) and each pixel's nearest bin (B, h, w)."""
    d2, idx = nearest_bins(ab, centres, NEAREST)
    w = torch.softmax(-d2 / (2 * SIGMA**2), dim=1)
    target = torch.zeros(ab.shape[0], len(centres), *ab.shape[2:], device=ab.device, dtype=w.dtype)
    return target.scatter_(1, idx, w), idx[:, 0]


def bin_counts(ab: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """How many pixels of ab (B, 2, h, w) in Lab units fall nearest to each bin: (Q,) float64."""
    _, idx = nearest_bins(ab, centres, 1)
    return torch.bincount(idx.flatten(), minlength=len(centres)).double()


def photo_counts(photos: Iterable[torch.Tensor], centres: torch.Tensor, reduce: int = 4) -> torch.Tensor:
    """Bin counts over RGB uint8 photos (H, W, 3), each averaged down by `reduce` first (as the loss sees
    its truth)."""
    counts = torch.zeros(len(centres), dtype=torch.float64)
    for rgb in photos:
        x = rgb.permute(2, 0, 1)[None].float().div(255.0)
        x = F.avg_pool2d(x, reduce) if min(x.shape[-2:]) >= reduce else x
        counts += bin_counts(rgb_to_lab(x)[:, 1:], centres)
    return counts


def rebalancing_weights(counts: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Per-bin loss weights from the bins' pixel counts (see the module's docstring); (Q,) float32."""
    prior = counts.double() / counts.double().sum().clamp_min(1.0)
    d2 = (centres[:, None] - centres[None]).pow(2).sum(-1).double()
    smooth = torch.exp(-d2 / (2 * PRIOR_SIGMA**2))
    prior = smooth @ prior / smooth.sum(1)
    prior = prior / prior.sum()
    w = 1.0 / ((1.0 - UNIFORM_MIX) * prior + UNIFORM_MIX / len(centres))
    w = w / (prior * w).sum()  # the expected weight of a training pixel is 1
    return w.float()


def class_loss(
    logits: torch.Tensor, ab: torch.Tensor, centres: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Rebalanced soft cross-entropy. logits (B, Q, h, w); ab (B, 2, H, W) the truth in Lab units, averaged
    down to the logits' resolution."""
    ab = F.adaptive_avg_pool2d(ab.float(), logits.shape[-2:])
    target, nearest = soft_targets(ab, centres)
    ce = -(target * F.log_softmax(logits.float(), dim=1)).sum(1)
    return (weights[nearest] * ce).mean()


def annealed_mean(
    logits: torch.Tensor, centres: torch.Tensor, temperature: torch.Tensor | float
) -> torch.Tensor:
    """logits (B, Q, h, w) -> ab (B, 2, h, w) in Lab units: the mean of softmax(logits / T) over the bins."""
    p = torch.softmax(logits.float() / temperature, dim=1)
    return torch.einsum("bqhw,qc->bchw", p, centres)
