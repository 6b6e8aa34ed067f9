"""Pick a generator's render size and chroma gain (a scale on its predicted ab) on photos it was trained on.

Regression-trained colorizers under-shoot colour (the L1 optimum is a median, pulled towards gray). A single
gain on ab, chosen by the same score that picks the checkpoint (PSNR + 5 * min(colourfulness ratio, 1), see
autocolor.metrics.score), on training photos (never on val), undoes part of that. The render size (long side the network sees) is chosen by the same score. Prints one
JSON line per (render size, gain).

    .venv/bin/python scripts/calibrate_chroma.py --weights runs/default/best --data ../shared/photos/train
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from autocolor.color import gray_uint8
from autocolor.io import LoadedImage, list_images, load_image
from autocolor.metrics import colorfulness, psnr, score
from autocolor.pipeline import Colorizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--every", type=int, default=6, help="use every k-th photo in name order")
    ap.add_argument("--gains", default="1.0,1.1,1.2,1.3,1.4,1.5,1.6")
    ap.add_argument("--render-sizes", default="256")
    args = ap.parse_args()
    colorizer = Colorizer.from_pretrained(args.weights)
    photos = [load_image(p).rgb for p in list_images(args.data)[:: args.every]]
    truth_cf = float(np.mean([colorfulness(t) for t in photos]))
    best = None
    for render in map(int, args.render_sizes.split(",")):
        for gain in map(float, args.gains.split(",")):
            colorizer.chroma_gain = gain
            outs = [colorizer.colorize_loaded([LoadedImage(gray_uint8(t))], render)[0].rgb for t in photos]
            row = {
                "render_size": render,
                "gain": gain,
                "photos": len(photos),
                "psnr": float(np.mean([psnr(o, t) for o, t in zip(outs, photos, strict=True)])),
                "colorfulness": float(np.mean([colorfulness(o) for o in outs])),
                "colorfulness_truth": truth_cf,
            }
            row["colorfulness_ratio"] = row["colorfulness"] / truth_cf
            row["score"] = score(row)
            print(json.dumps(row), flush=True)
            if best is None or row["score"] > best["score"]:
                best = row
    print(json.dumps({"chosen_render_size": best["render_size"], "chosen_gain": best["gain"]}))


if __name__ == "__main__":
    main()
