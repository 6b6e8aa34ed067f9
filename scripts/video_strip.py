"""The README's before/after strip: consecutive frames of a clip as gray input, per-frame colour and stabilised
colour, one row each (per-frame colour flickers from frame to frame; the stabilised row holds still).

    python scripts/video_strip.py ../shared/videos/vtest.avi docs/video/strip.png --frames 28 29 30 31
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from autocolor import Colorizer
from autocolor.color import gray_uint8
from autocolor.video.frames import ColorStages
from autocolor.video.media import VideoReader
from autocolor.video.stabilize import Stabilizer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("clip")
    p.add_argument("out")
    p.add_argument("--frames", type=int, nargs="+", default=[28, 29, 30, 31])
    p.add_argument("--width", type=int, default=256, help="width of each frame in the strip")
    args = p.parse_args()
    stages, stabilizer = ColorStages(Colorizer.from_pretrained()), Stabilizer()
    rows: dict[str, list[Image.Image]] = {"gray input": [], "per-frame": [], "stabilized": []}
    with VideoReader(args.clip) as reader:
        for i, (rgb, _) in enumerate(reader.frames()):
            if i > max(args.frames):
                break
            gray = gray_uint8(rgb)
            pred = stages.predict(gray)
            steady = stages.compose(pred.prepared, stabilizer(pred.gray, pred.ab))
            if i in args.frames:
                for name, im in zip(
                    rows, (gray, stages.compose(pred.prepared, pred.ab), steady), strict=True
                ):
                    h = round(im.shape[0] * args.width / im.shape[1])
                    rows[name].append(Image.fromarray(im).resize((args.width, h), Image.Resampling.LANCZOS))
    label, pad = 110, 4
    w, h = rows["gray input"][0].size
    strip = Image.new("RGB", (label + len(args.frames) * (w + pad), len(rows) * (h + pad)), "white")
    draw = ImageDraw.Draw(strip)
    for r, (name, ims) in enumerate(rows.items()):
        draw.text((6, r * (h + pad) + h // 2 - 6), name, fill="black")
        for c, im in enumerate(ims):
            strip.paste(im, (label + c * (w + pad), r * (h + pad)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    strip.save(args.out, optimize=True)
    print(args.out, np.asarray(strip).shape)


if __name__ == "__main__":
    main()
