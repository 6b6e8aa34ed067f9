"""Choose a colour-class model's default vividness on the selection split (never on the test set).

    python scripts/choose_vividness.py --weights RUN/train/best --data RUN/split/select [--levels 0.2,0.3,..]

Each photo is turned gray, run through the network once per level (the lightness and the resizing are shared).
The chosen level has the highest PSNR among those keeping at least --min-colorfulness of the truth's
colourfulness (0.85: the bundled model's target), or, with --min-colorfulness 0, the highest training score
(metrics.score: PSNR plus a reward for colourfulness up to the truth's). Prints one row per level and the
chosen level last; write it into the model with
`autocolor export --weights DIR --vividness V ...`.
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
    ap.add_argument("--data", required=True, help="the selection split's colour photos")
    ap.add_argument("--levels", default="0,0.2,0.4,0.5,0.6,0.7,0.8,1.0")
    ap.add_argument("--min-colorfulness", type=float, default=0.85)
    args = ap.parse_args()
    levels = [float(v) for v in args.levels.split(",")]
    colorizer = Colorizer.from_pretrained(args.weights, backend="torch")
    rows = {v: {"psnr": [], "cf": [], "cf_truth": [], "below_gray": 0} for v in levels}
    for path in list_images(args.data):
        truth = load_image(path).rgb
        gray = gray_uint8(truth)
        prepared = colorizer.prepare(LoadedImage(gray))
        base = psnr(gray, truth)
        for v in levels:
            out = colorizer.compose(prepared, colorizer.predict_ab([prepared], v)[0]).rgb
            r = rows[v]
            r["psnr"].append(psnr(out, truth))
            r["cf"].append(colorfulness(out))
            r["cf_truth"].append(colorfulness(truth))
            r["below_gray"] += r["psnr"][-1] < base
    table = []
    for v, r in rows.items():
        ratio = float(np.mean(r["cf"]) / np.mean(r["cf_truth"]))
        row = {"vividness": v, "psnr": float(np.mean(r["psnr"])), "colorfulness_ratio": ratio}
        row.update(score=score(row), below_gray=r["below_gray"], photos=len(r["psnr"]))
        table.append(row)
        print(json.dumps({k: round(x, 4) if isinstance(x, float) else x for k, x in row.items()}))
    vivid = [row for row in table if row["colorfulness_ratio"] >= args.min_colorfulness]
    if args.min_colorfulness > 0 and vivid:
        best = max(vivid, key=lambda row: row["psnr"])
    else:
        best = max(table, key=lambda row: row["score"])
    print(json.dumps({"chosen_vividness": best["vividness"]}))


if __name__ == "__main__":
    main()
