"""docs/results/reference.jpg: colour from a reference on crop pairs of photos (reference = left 60%, target =
right 60%): per row the reference, the target as the model sees it (gray), automatic colour, colour with the
reference, and the truth.

    python scripts/reference_figure.py --data ../shared/photos/val --out docs/results/reference.jpg [--rows 4]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from autocolor.io import list_images, load_image
from autocolor.metrics import psnr
from autocolor.pipeline import Colorizer
from autocolor.reference_eval import crop_pair

TILE = 200


def tile(rgb: np.ndarray) -> Image.Image:
    im = Image.fromarray(np.ascontiguousarray(rgb))
    return im.resize((round(im.width * TILE / im.height), TILE), Image.Resampling.LANCZOS)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=4)
    args = ap.parse_args()
    colorizer = Colorizer.from_pretrained()
    paths = list_images(args.data)
    picks = [paths[round(i * (len(paths) - 1) / max(1, args.rows - 1))] for i in range(args.rows)]
    rows = []
    for path in picks:
        ref, target = crop_pair(load_image(path).rgb)
        auto = np.asarray(colorizer.colorize(target))
        steered = colorizer.colorize(target, reference=ref)
        gray = colorizer.gray(target)
        tiles = [tile(x) for x in (ref, gray, auto, np.asarray(steered), target)]
        notes = ["reference", "input (gray)", f"automatic\n{psnr(auto, target):.1f} dB",
                 f"with the reference\n{psnr(np.asarray(steered), target):.1f} dB, "
                 f"{steered.info['reference_confidence']:.0%} matched", "truth"]  # fmt: skip
        row = Image.new("RGB", (sum(t.width for t in tiles) + 4 * len(tiles), TILE + 30), "white")
        x = 0
        for t, note in zip(tiles, notes, strict=True):
            row.paste(t, (x, 30))
            ImageDraw.Draw(row).multiline_text((x + 2, 2), note, fill="black", spacing=2)
            x += t.width + 4
        rows.append(row)
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=88)


if __name__ == "__main__":
    main()
