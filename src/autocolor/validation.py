"""Validation during training, through the Colorizer: the same full-resolution colour path users get
(render size, ab upsampling, chroma gain, gamut mapping), scored on whole photos, not crops."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps

from .color import gray_uint8
from .colorspace import AB_SCALE
from .data import find_photos
from .hint_sim import simulate_point_hints
from .io import ImageError, LoadedImage, load_image
from .metrics import colorfulness, psnr, score
from .models import UNet
from .pipeline import Colorizer

log = logging.getLogger("autocolor.validation")

SAMPLE_ROWS = 4
VAL_HINTS = 10  # a hint generator is also scored with this many hints simulated from the truth


@dataclass
class ValidationPhoto:
    path: os.PathLike
    pair: bool  # a gray|colour A|B pair: the colour half is the photo

    def load(self) -> np.ndarray:
        rgb = load_image(self.path).rgb
        return np.ascontiguousarray(rgb[:, rgb.shape[1] // 2 :]) if self.pair else rgb


def validation_photos(root: str | os.PathLike, data_format: str = "auto", limit: int | None = None):
    """The colour photos under `root` (gray and unreadable files skipped), the first `limit` in name order."""
    found = find_photos(root, data_format)
    photos = [ValidationPhoto(p, pair) for p, pair in zip(found.photos, found.pairs, strict=True)][:limit]
    if not photos:
        raise ValueError(f"{root}: no usable colour photos for validation")
    return photos


def _tile(rgb: np.ndarray, side: int) -> np.ndarray:
    return np.asarray(ImageOps.fit(Image.fromarray(rgb), (side, side), Image.Resampling.BICUBIC))


@torch.no_grad()
def validate(
    generator: UNet,
    photos: list[ValidationPhoto],
    device: torch.device,
    precision: str = "fp32",
) -> tuple[dict[str, float], np.ndarray]:
    """Colorize every photo with `generator` as `Colorizer` would, compare with the original.

    Returns the mean metrics (l1: mean |ab error| / 110 in CIE Lab; psnr in dB on RGB; colourfulness of the
    output and of the truth, their ratio, and `score`; for a hint generator also psnr_hints, the PSNR with
    VAL_HINTS hints simulated from the truth) and a sample grid (rows of gray | output | truth,
    square thumbnails of the generator's render size). The generator's train/eval mode is left as it was.
    """
    from skimage.color import rgb2lab

    was_training = generator.training
    colorizer = Colorizer.from_model(generator, device, precision)
    rows, l1, psnrs, cf_out, cf_true, hinted = [], [], [], [], [], []
    try:
        for i, photo in enumerate(photos):
            try:
                truth = photo.load()
            except ImageError as e:
                log.warning("validation skips %s", e)
                continue
            out = colorizer.colorize_loaded([LoadedImage(truth)])[0].rgb
            ab_err = np.abs(rgb2lab(out)[..., 1:] - rgb2lab(truth)[..., 1:]).mean() / AB_SCALE
            l1.append(float(ab_err))
            psnrs.append(psnr(out, truth))
            cf_out.append(colorfulness(out))
            cf_true.append(colorfulness(truth))
            if colorizer.takes_hints:
                points = [simulate_point_hints(truth, VAL_HINTS, i)]
                hinted.append(
                    psnr(colorizer.colorize_loaded([LoadedImage(truth)], hints=points)[0].rgb, truth)
                )
            if len(rows) < SAMPLE_ROWS:
                side = colorizer.render_size
                rows.append(np.concatenate([_tile(im, side) for im in (gray_uint8(truth), out, truth)], 1))
    finally:
        generator.train(was_training)
    if not l1:
        raise ValueError("no validation photo could be read")
    result = {
        "l1": float(np.mean(l1)),
        "psnr": float(np.mean(psnrs)),
        "colorfulness": float(np.mean(cf_out)),
        "colorfulness_truth": float(np.mean(cf_true)),
    }
    result["colorfulness_ratio"] = result["colorfulness"] / max(result["colorfulness_truth"], 1e-6)
    result["score"] = score(result)
    if hinted:
        result["psnr_hints"] = float(np.mean(hinted))
    return result, np.concatenate(rows, axis=0)
