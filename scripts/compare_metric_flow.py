"""Which optical flow should the flicker metric use? The one that best explains the input: the lowest warping
error of the gray input itself (and the truth), with the share of pixels the consistency mask keeps.

    python scripts/compare_metric_flow.py runs/clips/train/*.mp4
"""

from __future__ import annotations

import sys

import cv2

from autocolor.color import gray_uint8
from autocolor.video.flicker import pair_error
from autocolor.video.flow import consistent, dis, motion_boundary
from autocolor.video.media import VideoReader

FLOWS = {
    "farneback": lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 4, 15, 3, 5, 1.2, 0),
    "dis-fast": lambda a, b: dis("fast").calc(a, b, None),
    "dis-medium": lambda a, b: dis("medium").calc(a, b, None),
}


def main(clips: list[str], frames: int = 24) -> None:
    for clip in clips:
        with VideoReader(clip) as reader:
            rgb = [f for f, _ in zip((f for f, _ in reader.frames()), range(frames), strict=False)]
        grays = [gray_uint8(f) for f in rgb]
        for name, flow in FLOWS.items():
            eg = et = kept = 0.0
            for i in range(len(rgb) - 1):
                fw, bw = (
                    flow(grays[i][..., 0], grays[i + 1][..., 0]),
                    flow(grays[i + 1][..., 0], grays[i][..., 0]),
                )
                mask = consistent(fw, bw) & ~motion_boundary(fw)
                eg += pair_error(grays[i], grays[i + 1], fw, mask)
                et += pair_error(rgb[i], rgb[i + 1], fw, mask)
                kept += mask.mean()
            n = len(rgb) - 1
            print(
                f"{clip}\t{name}\tgray E_warp x1000 {eg / n * 1e3:.4f}\ttruth {et / n * 1e3:.4f}\tkept {kept / n:.3f}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
