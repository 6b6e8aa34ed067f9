"""Optical flow and the forward-backward consistency test, shared by the stabiliser and the flicker metric.

Conventions: images are (H, W) uint8 gray or (H, W, C) float32; a flow is (H, W, 2) float32 in pixels, (dx, dy),
and `flow_ab[y, x]` says where pixel (x, y) of image a is found in image b. OpenCV does the work (DIS flow and
bilinear remapping); this module only fixes the conventions and the masks.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np


@functools.cache
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return xs, ys


def dis(preset: str = "fast") -> cv2.DISOpticalFlow:
    """OpenCV's DIS optical flow (Kroeger et al. 2016) at one of its presets: ultrafast, fast or medium."""
    presets = {
        "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
        "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
        "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    }
    if preset not in presets:
        raise ValueError(f"unknown DIS preset {preset!r}; choose one of {', '.join(presets)}")
    return cv2.DISOpticalFlow_create(presets[preset])


def warp(image: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample `image` (H, W[, C]) at x + flow(x), bilinearly -> (warped image, bool (H, W) mask of samples
    that fall inside the image). With flow_ab, `image` from frame b comes back in frame a's coordinates."""
    h, w = flow.shape[:2]
    xs, ys = _grid(h, w)
    mx, my = xs + flow[..., 0], ys + flow[..., 1]
    out = cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    return out, inside


def consistent(flow_ab: np.ndarray, flow_ba: np.ndarray) -> np.ndarray:
    """Bool (H, W) mask in frame a of pixels whose flow passes the forward-backward test of Sundaram et al.
    (2010) as used by Ruder et al. (2016) and Lai et al. (2018): going a -> b -> a must come back to the start,

        |w + w_back|^2 <= 0.01 (|w|^2 + |w_back|^2) + 0.5,   w = flow_ab(x),  w_back = flow_ba(x + w),

    and the target must lie inside frame b. Occluded and dis-occluded pixels fail it."""
    back, inside = warp(flow_ba, flow_ab)
    total = flow_ab + back
    err = (total * total).sum(axis=2)
    scale = (flow_ab * flow_ab).sum(axis=2) + (back * back).sum(axis=2)
    return inside & (err <= 0.01 * scale + 0.5)


def motion_boundary(flow: np.ndarray) -> np.ndarray:
    """Bool (H, W) mask of motion boundaries (Ruder et al. 2016): |grad u|^2 + |grad v|^2 > 0.01 |w|^2 + 0.002."""
    gu = np.gradient(flow[..., 0])
    gv = np.gradient(flow[..., 1])
    grad = gu[0] ** 2 + gu[1] ** 2 + gv[0] ** 2 + gv[1] ** 2
    return grad > 0.01 * (flow * flow).sum(axis=2) + 0.002
