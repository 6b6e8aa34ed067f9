"""Choose the guided-upsampling defaults (radius, eps) on a split of the TRAINING photos, never on val.

    .venv/bin/python scripts/tune_guide.py --data ../shared/photos/train --every 10 [--weights DIR]

Each photo's gray version is colorized once by the network (at the model's render size); its ab is then
composed at full resolution with every (radius, eps) in the grid, and PSNR and SSIM against the original are
averaged (radius 0 = plain bilinear upsampling). Prints one JSON line per setting, best SSIM first.
"""

from __future__ import annotations

import argparse
import itertools
import json

import numpy as np

from autocolor.io import list_images, load_image
from autocolor.metrics import psnr, ssim
from autocolor.pipeline import Colorizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--every", type=int, default=10, help="use every N-th photo in name order")
    ap.add_argument("--weights")
    ap.add_argument("--radii", default="0,1,2,3,4,6")
    ap.add_argument("--eps", default="1e-4,3e-4,1e-3,3e-3,1e-2")
    args = ap.parse_args()
    c = Colorizer.from_pretrained(args.weights)
    grid = [(0, 1e-3)] + list(
        itertools.product(
            [int(r) for r in args.radii.split(",") if int(r) > 0], [float(e) for e in args.eps.split(",")]
        )
    )
    scores: dict[tuple, list[tuple[float, float]]] = {g: [] for g in grid}
    files = list_images(args.data)[:: args.every]
    for path in files:
        truth = load_image(path).rgb
        prepared = c.prepare(c.gray(truth))
        ab = c.predict_ab([prepared])[0]
        for radius, eps in grid:
            c.guide_eps = eps
            pred = c.compose(prepared, ab, guide_radius=radius).rgb
            scores[(radius, eps)].append((psnr(pred, truth), ssim(pred, truth)))
        print(json.dumps({"photos_done": len(scores[grid[0]])}), flush=True)
    rows = [{"radius": r, "eps": e, **_means(v)} for (r, e), v in scores.items()]
    for row in sorted(rows, key=lambda x: -x["ssim"]):
        print(json.dumps({**row, "photos": len(files)}), flush=True)


def _means(scores: list[tuple[float, float]]) -> dict:
    return {
        "psnr": round(float(np.mean([s[0] for s in scores])), 4),
        "ssim": round(float(np.mean([s[1] for s in scores])), 5),
    }


if __name__ == "__main__":
    main()
