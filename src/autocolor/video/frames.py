"""Colorizing a stream of frames: the network at render size, optional temporal stabilisation, then the
Colorizer's one full-resolution colour path on each frame's own lightness.

`ColorStages` adapts the Colorizer's two public stages, `predict_ab` (network at render size) and `compose`
(full-res L + low-res ab -> sRGB), to the frame layout of the stabiliser.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from ..colorspace import L_to_uint8, fy_to_L
from ..hints import HintLike
from ..reference import Reference
from .stabilize import Stabilizer, StabilizerConfig

if TYPE_CHECKING:  # the Colorizer calls into this module (colorize_video, colorize_frames)
    from ..pipeline import Colorizer, Prepared


@dataclass
class Prediction:
    """One frame at render size: `prepared` (its lightness at full and render size, see `Prepared`), gray
    (h, w) uint8 (the network's input lightness L scaled to 0-255, for optical flow) and ab (h, w, 2) float32, the
    network's output in [-1, 1] (the stabiliser's blending does not depend on the scale)."""

    prepared: Prepared
    gray: np.ndarray
    ab: np.ndarray


class ColorStages:
    """The Colorizer's two public stages in the frame layout the stabiliser works in (video)."""

    def __init__(
        self,
        colorizer: Colorizer,
        render_size: int | None = None,
        hints: Sequence[HintLike] = (),
        reference: Reference | None = None,
    ):
        self.colorizer = colorizer
        self.size = render_size or colorizer.render_size
        self.hints, self.reference = list(hints), reference

    def predict(self, rgb: np.ndarray) -> Prediction:
        """(H, W, 3) uint8 frame -> its Prediction (the network runs once, at render size), with the colours
        of the reference and the hints (the same points on every frame) taken in."""
        prepared = self.colorizer.prepare(rgb, self.size, self.hints, self.reference)
        ab = self.colorizer.predict_ab([prepared])[0]  # (2, h, w) in [-1, 1]
        ab = self.colorizer.spread_hints(prepared, ab)
        gray = L_to_uint8(fy_to_L(prepared.small))
        return Prediction(prepared, gray, np.ascontiguousarray(ab.transpose(1, 2, 0)))

    def compose(self, prepared: Prepared, ab: np.ndarray) -> np.ndarray:
        """A frame's Prepared + ab (h, w, 2) at render size in [-1, 1] -> (H, W, 3) uint8 sRGB."""
        return self.colorizer.compose(prepared, np.ascontiguousarray(ab.transpose(2, 0, 1))).rgb


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
    hints: Sequence[HintLike] = (),
    reference: Reference | None = None,
) -> Iterator[np.ndarray]:
    """Frames in display order -> colour (H, W, 3) uint8 frames, one out per frame in, lazily (memory does not
    grow with the number of frames). With `stabilize`, colour is carried along optical flow (see
    `autocolor.video.stabilize`); without, each frame is colorized on its own, exactly as a photo. `hints`
    (frame pixels) apply to every frame; `reference` (from `Colorizer.reference`) colours every shot."""
    stages = ColorStages(colorizer, render_size, hints, reference)
    stabilizer = Stabilizer(config) if stabilize else None
    for frame in frames:
        p = stages.predict(as_rgb(frame))
        ab = stabilizer(p.gray, p.ab) if stabilizer is not None else p.ab
        yield stages.compose(p.prepared, ab)
