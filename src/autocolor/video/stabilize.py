"""Temporal stabilisation of predicted colour, with no learned model.

Per frame, at the network's render size (cheap): DIS optical flow between this frame's gray and the previous
one, both ways; the previous *stabilised* ab is warped into this frame along the backward flow; where the flow
is reliable (forward-backward consistent, inside the frame, and the warped gray agrees with this gray), the
output is a running mean of the warped history and the new prediction,

    ab_out = ab_pred / n + ab_warped (1 - 1/n),   n = min(n_warped + 1, history),

so colour settles over up to `history` frames and follows the motion; where the flow is unreliable
(occlusions, new content) n restarts at 1 and the prediction is taken as is. A scene cut (a large change of the
gray histogram, or most of the frame unreliable) resets the whole state. Memory is one frame of state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .flow import consistent, dis, warp


@dataclass
class StabilizerConfig:
    """history: frames the running mean spans at most (1 = no stabilisation); photometric: largest gray
    difference (0-255) between a pixel and its warped predecessor that still counts as the same surface;
    cut_histogram: total-variation distance between 32-bin gray histograms that marks a scene cut;
    cut_unreliable: fraction of unreliable pixels that marks a scene cut; preset: DIS flow preset."""

    history: int = 8
    photometric: float = 12.0
    cut_histogram: float = 0.35
    cut_unreliable: float = 0.6
    preset: str = "fast"


class Stabilizer:
    """Call once per frame, in order: stabilizer(gray (h, w) uint8, ab (h, w, 2) float32) -> ab (h, w, 2).

    Holds one frame of state; `reset()` forgets it. `cuts` counts the scene cuts detected so far."""

    def __init__(self, config: StabilizerConfig | None = None):
        self.config = config or StabilizerConfig()
        self.flow = dis(self.config.preset)
        self.cuts = 0
        self.reset()

    def reset(self) -> None:
        self.gray = self.ab = self.count = self.hist = None

    def __call__(self, gray: np.ndarray, ab: np.ndarray) -> np.ndarray:
        cfg = self.config
        hist = np.bincount(gray.ravel() >> 3, minlength=32) / gray.size
        if self.gray is None or self.gray.shape != gray.shape or cfg.history <= 1:
            return self._start(gray, ab, hist)
        if 0.5 * np.abs(hist - self.hist).sum() > cfg.cut_histogram:
            self.cuts += 1
            return self._start(gray, ab, hist)
        back = self.flow.calc(gray, self.gray, None)  # this frame -> previous
        fwd = self.flow.calc(self.gray, gray, None)  # previous -> this frame
        reliable = consistent(back, fwd)
        warped_gray, _ = warp(self.gray, back)
        reliable &= np.abs(warped_gray.astype(np.int16) - gray) <= cfg.photometric
        if 1.0 - reliable.mean() > cfg.cut_unreliable:
            self.cuts += 1
            return self._start(gray, ab, hist)
        warped_ab, _ = warp(self.ab, back)
        warped_n, _ = warp(self.count, back)
        n = np.where(reliable, np.minimum(warped_n + 1.0, cfg.history), 1.0).astype(np.float32)
        out = warped_ab + (ab - warped_ab) / n[..., None]
        self.gray, self.ab, self.count, self.hist = gray, out, n, hist
        return out

    def _start(self, gray: np.ndarray, ab: np.ndarray, hist: np.ndarray) -> np.ndarray:
        self.gray, self.ab, self.hist = gray, ab, hist
        self.count = np.ones(gray.shape, np.float32)
        return ab
