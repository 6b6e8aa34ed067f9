"""Colour hints simulated from the truth, as in the training code of Zhang et al. 2017 ("Real-Time
User-Guided Image Colorization with Learned Deep Priors", colorization-pytorch `add_color_patches_rand_gau`).

Per image: the number of hints is geometric (another hint follows with probability 1 - p, p = 1/8: none one
time in eight, 7 on average); each hint is a square patch of 1-9 px whose top-left corner is drawn from a
Gaussian around the image centre (sd = a quarter of the side, clipped to the image); its value is the patch's
mean ab, written into every pixel of the patch, and the mask is 1 there. Later patches overwrite earlier ones.

Everything is drawn from a generator seeded by the sample's seed (the data's (index, seed) addressing), so a
resumed run and an evaluation see the same hints every time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

P_STOP = 1.0 / 8.0
PATCH_SIZES = (1, 9)  # smallest and largest side, inclusive
_STREAM = 0x48494E54  # keeps the hint stream apart from the crop's stream drawn from the same seed


def hint_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, _STREAM])


def sample_patches(
    rng: np.random.Generator, height: int, width: int, count: int | None = None, p: float = P_STOP
) -> list[tuple[int, int, int]]:
    """(top, left, side) of each hint patch; `count` fixes the number, else it is geometric(p)."""
    patches: list[tuple[int, int, int]] = []
    while (rng.random() < 1.0 - p) if count is None else len(patches) < count:
        side = min(int(rng.integers(PATCH_SIZES[0], PATCH_SIZES[1] + 1)), height, width)
        top = int(np.clip(rng.normal((height - side + 1) / 2, (height - side + 1) / 4), 0, height - side))
        left = int(np.clip(rng.normal((width - side + 1) / 2, (width - side + 1) / 4), 0, width - side))
        patches.append((top, left, side))
    return patches


def simulate_hints(ab: torch.Tensor, seeds: Sequence[int], count: int | None = None) -> torch.Tensor:
    """ab (B, 2, H, W) (any scale) -> hints (B, 3, H, W): hint ab in the same scale where mask is 1, else 0,
    then the mask in {0, 1}. Sample i's hints are drawn from `seeds[i]`; `count` fixes how many."""
    B, _, H, W = ab.shape
    if len(seeds) != B:
        raise ValueError(f"{len(seeds)} seeds for a batch of {B}")
    out = ab.new_zeros(B, 3, H, W)
    for i, seed in enumerate(seeds):
        for top, left, side in sample_patches(hint_rng(seed), H, W, count):
            patch = ab[i, :, top : top + side, left : left + side]
            out[i, :2, top : top + side, left : left + side] = patch.mean(dim=(1, 2), keepdim=True)
            out[i, 2, top : top + side, left : left + side] = 1.0
    return out


def simulate_point_hints(truth: np.ndarray, count: int, seed: int) -> list[tuple[float, float, tuple]]:
    """`count` hints for a colour photo (H, W, 3) uint8, as a user would give them: the same patches as in
    training, drawn at the photo's own resolution; each becomes a point at the patch centre (x, y in pixels)
    whose colour is the patch's mean sRGB. Same photo and seed -> same hints, whatever the model."""
    H, W = truth.shape[:2]
    hints = []
    for top, left, side in sample_patches(hint_rng(seed), H, W, count):
        mean = truth[top : top + side, left : left + side].reshape(-1, 3).mean(axis=0)
        rgb = tuple(int(v) for v in np.clip(np.rint(mean), 0, 255))
        hints.append((left + (side - 1) / 2, top + (side - 1) / 2, rgb))
    return hints
