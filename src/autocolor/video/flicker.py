"""Flicker metric: the warping error E_warp of Lai et al., "Learning Blind Video Temporal Consistency", ECCV 2018
(section 5, and evaluate_WarpError.py in their code, github.com/phoenix104104/fast_blind_video_consistency).

For output frames O_1..O_T (RGB in [0, 1]) of an input video V:

    E_pair(O_t, O_t+1) = sum_x M_t(x) ||O_t(x) - W(O_t+1)(x)||^2 / (3 sum_x M_t(x))
    E_warp(O)          = mean over the T - 1 pairs of E_pair

where W warps frame t+1 into frame t along the optical flow of the *input* video (t -> t+1), and M_t masks out
pixels that fail the forward-backward test (occluded or flowing out of the frame) and motion boundaries
(Ruder et al. 2016), both computed on the input. Lai et al. use FlowNet2; we use OpenCV's DIS flow at its
"medium" preset on the full-resolution gray input: of the flows OpenCV ships, it explains the input best (the
lowest warping error of the gray input itself, with the most pixels kept; Farneback was 1.1-2.6x worse on the
training-photo clips). The stabiliser also uses DIS, but at render size and the "fast" preset. Lower is
steadier; the gray input's own E_warp is the floor set by flow and interpolation errors (the truth's, which
also carries its real colour detail, is reported beside it).
"""

from __future__ import annotations

import functools

import numpy as np

from .flow import consistent, dis, motion_boundary, warp


@functools.cache
def _flow():
    return dis("medium")


def pair_mask(gray_a: np.ndarray, gray_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Input grays (H, W) uint8 of frames t and t+1 -> (flow t -> t+1, bool mask M_t of pixels that count)."""
    flow = _flow()
    fwd, bwd = flow.calc(gray_a, gray_b, None), flow.calc(gray_b, gray_a, None)
    return fwd, consistent(fwd, bwd) & ~motion_boundary(fwd)


def pair_error(out_a: np.ndarray, out_b: np.ndarray, flow: np.ndarray, mask: np.ndarray) -> float:
    """E_pair for output frames (H, W, 3) uint8 at t and t+1, given the input's flow t -> t+1 and mask."""
    n = int(mask.sum())
    if n == 0:
        return 0.0
    warped, _ = warp(out_b.astype(np.float32) / 255.0, flow)
    diff = warped[mask] - out_a[mask].astype(np.float32) / 255.0
    return float((diff * diff).sum() / (3 * n))


class WarpError:
    """E_warp of several outputs of one input video, accumulated frame by frame (memory: one frame each).

    Call `add(gray, {name: frame})` for every frame in order, then `result()` -> {name: E_warp}."""

    def __init__(self) -> None:
        self.prev_gray: np.ndarray | None = None
        self.prev: dict[str, np.ndarray] = {}
        self.sums: dict[str, float] = {}
        self.pairs = 0

    def add(self, gray: np.ndarray, outputs: dict[str, np.ndarray]) -> None:
        """gray: the input frame (H, W) uint8; outputs: name -> (H, W, 3) uint8 frame of the same size."""
        if self.prev_gray is not None:
            flow, mask = pair_mask(self.prev_gray, gray)
            for name, frame in outputs.items():
                self.sums[name] = self.sums.get(name, 0.0) + pair_error(self.prev[name], frame, flow, mask)
            self.pairs += 1
        self.prev_gray, self.prev = gray, dict(outputs)

    def result(self) -> dict[str, float]:
        return {name: s / self.pairs for name, s in self.sums.items()} if self.pairs else {}
