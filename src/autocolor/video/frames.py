"""Colorizing a stream of frames: the network at render size, optional temporal stabilisation, then the
Colorizer's one full-resolution colour path on each frame's own lightness.

`ColorStages` is the only code here that knows how the Colorizer is built inside; everything else goes
through its two stages, `predict_ab` (network at render size) and `compose` (full-res L + low-res ab -> sRGB).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ..color import lightness_f
from ..pipeline import Colorizer
from .stabilize import Stabilizer, StabilizerConfig


@dataclass
class Prediction:
    """One frame at render size: fy = (L + 16) / 116 at full resolution (H, W) float32, gray (h, w) uint8
    (the network's input lightness L scaled to 0-255, for optical flow) and ab (h, w, 2) float32 in [-110, 110]."""

    fy: np.ndarray
    gray: np.ndarray
    ab: np.ndarray


class ColorStages:
    """The Colorizer split into its two stages, for callers that work between them (video)."""

    def __init__(self, colorizer: Colorizer, render_size: int | None = None):
        self.colorizer = colorizer
        self.size = render_size or colorizer.render_size

    def predict_ab(self, rgb: np.ndarray) -> Prediction:
        """(H, W, 3) uint8 frame -> its Prediction (the network runs once, at render size)."""
        fy = lightness_f(rgb)
        L, (h, w) = self.colorizer._render_input(fy, self.size)
        ab = self.colorizer.predict(L[None])[0, :, :h, :w]
        gray = ((L[0, :h, :w] + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8).numpy()
        return Prediction(fy, gray, np.ascontiguousarray(ab.permute(1, 2, 0).numpy()))

    def compose(self, fy: np.ndarray, ab: np.ndarray) -> np.ndarray:
        """fy (H, W) at full resolution + ab (h, w, 2) at render size -> (H, W, 3) uint8 sRGB."""
        return self.colorizer._compose(fy, torch.from_numpy(np.ascontiguousarray(ab.transpose(2, 0, 1))))


def as_rgb(frame: np.ndarray | Image.Image) -> np.ndarray:
    """A PIL image or an (H, W[, 3|4]) uint8 array -> (H, W, 3) uint8."""
    if isinstance(frame, Image.Image):
        return np.asarray(frame.convert("RGB"))
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames, got {frame.dtype}")
    if frame.ndim == 2:
        return np.repeat(frame[..., None], 3, axis=2)
    if frame.ndim == 3 and frame.shape[2] in (3, 4):
        return np.ascontiguousarray(frame[..., :3])
    raise ValueError(f"expected (H, W), (H, W, 3) or (H, W, 4) frames, got shape {frame.shape}")


def colorize_frames(
    colorizer: Colorizer,
    frames: Iterable[np.ndarray | Image.Image],
    stabilize: bool = True,
    render_size: int | None = None,
    config: StabilizerConfig | None = None,
) -> Iterator[np.ndarray]:
    """Frames in display order -> colour (H, W, 3) uint8 frames, one out per frame in, lazily (memory does not
    grow with the number of frames). With `stabilize`, colour is carried along optical flow (see
    `autocolor.video.stabilize`); without, each frame is colorized on its own, exactly as a photo."""
    stages = ColorStages(colorizer, render_size)
    stabilizer = Stabilizer(config) if stabilize else None
    for frame in frames:
        p = stages.predict_ab(as_rgb(frame))
        ab = stabilizer(p.gray, p.ab) if stabilizer is not None else p.ab
        yield stages.compose(p.fy, ab)
