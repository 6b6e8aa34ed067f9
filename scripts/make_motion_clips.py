"""Make camera-motion test clips (pans and zooms) over colour photos, whose truth is known.

    python scripts/make_motion_clips.py --photos ../shared/photos/train --out runs/clips/train --n 6
    python scripts/make_motion_clips.py --photos ../shared/photos/val --out runs/clips/val --n 8

Photos are taken every k-th in name order (a fixed rule); clips alternate pan and zoom. Each clip is H.264
(crf 12) at 24 fps with subpixel motion from an affine warp of the photo, so flow is smooth but non-integer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image


def motion_frames(photo: np.ndarray, kind: str, n: int, width: int, height: int):
    """(H, W, 3) uint8 photo -> n frames (height, width, 3): a pan across 40% of the frame width (or height,
    for portrait photos), or a zoom in to 1.35x about the centre."""
    h, w = photo.shape[:2]
    cover = max(width * 1.45 / w, height * 1.45 / h) if kind == "pan" else max(width / w, height / h)
    photo = cv2.resize(photo, (round(w * cover), round(h * cover)), interpolation=cv2.INTER_AREA)
    h, w = photo.shape[:2]
    for i in range(n):
        t = i / max(n - 1, 1)
        if kind == "pan":
            horizontal = w - width >= h - height
            dx = (w - width) * (0.1 + 0.8 * t) if horizontal else (w - width) / 2
            dy = (h - height) / 2 if horizontal else (h - height) * (0.1 + 0.8 * t)
            m = np.float32([[1, 0, dx], [0, 1, dy]])
        else:
            s = 1.0 / (1.0 + 0.35 * t)  # photo pixels per output pixel
            m = np.float32([[s, 0, (w - width * s) / 2], [0, s, (h - height * s) / 2]])
        yield cv2.warpAffine(
            photo,
            m,
            (width, height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        )


def write_clip(path: Path, frames, fps: int, width: int, height: int) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "12", "preset": "medium"}
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=6, help="number of clips")
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--fps", type=int, default=24)
    p.add_argument("--size", default="384x288", help="WIDTHxHEIGHT")
    args = p.parse_args()
    width, height = map(int, args.size.split("x"))
    photos = sorted(Path(args.photos).glob("*.jpg"))
    picks = photos[:: max(1, len(photos) // args.n)][: args.n]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for i, photo in enumerate(picks):
        kind = ("pan", "zoom")[i % 2]
        rgb = np.asarray(Image.open(photo).convert("RGB"))
        path = out / f"{kind}-{photo.stem}.mp4"
        write_clip(path, motion_frames(rgb, kind, args.frames, width, height), args.fps, width, height)
        print(path)


if __name__ == "__main__":
    main()
