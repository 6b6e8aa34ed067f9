"""Measure colour hints on the selection split: what the network's hint inputs give, what spreading the
hints along the lightness gives (propagate.py) for a grid of its settings, and both together.

    python scripts/tune_hints.py --weights RUN/train/best --data RUN/split/select [--counts 1,10] [--limit N]

Hints are simulated from each photo's truth as evaluation simulates them (hint_sim.simulate_point_hints, seeded
by the photo's index). Prints one JSON line per (mode, settings, count): mean PSNR gain over automatic colour.
Write the chosen settings into the model with config.json's hint_sigma_s / hint_sigma_r / hint_reach.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import defaultdict

import numpy as np

from autocolor.color import gray_uint8
from autocolor.hint_sim import simulate_point_hints
from autocolor.io import LoadedImage, list_images, load_image
from autocolor.metrics import psnr
from autocolor.pipeline import Colorizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--counts", default="1,10")
    ap.add_argument("--sigma-s", default="20,40,80")
    ap.add_argument("--sigma-r", default="4,8,16")
    ap.add_argument("--reach", default="0.25")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    colorizer = Colorizer.from_pretrained(args.weights, backend="torch")
    grid = list(
        itertools.product(*(map(float, a.split(",")) for a in (args.sigma_s, args.sigma_r, args.reach)))
    )
    gains = defaultdict(list)
    for i, path in enumerate(list_images(args.data)[: args.limit]):
        truth = load_image(path).rgb
        gray = LoadedImage(gray_uint8(truth))
        plain = colorizer.prepare(gray)
        auto_ab = colorizer.predict_ab([plain])[0]
        auto = psnr(colorizer.compose(plain, auto_ab).rgb, truth)
        for count in map(int, args.counts.split(",")):
            hinted = colorizer.prepare(gray, hints=simulate_point_hints(truth, count, i))
            net_ab = colorizer.predict_ab([hinted])[0] if colorizer.network_hints else auto_ab
            gains[("network", None, count)].append(psnr(colorizer.compose(hinted, net_ab).rgb, truth) - auto)
            for settings in grid:
                colorizer.hint_spread = settings
                for mode, ab in (("spread", auto_ab), ("both", net_ab)):
                    if mode == "both" and not colorizer.network_hints:
                        continue
                    out = colorizer.compose(hinted, colorizer.spread_hints(hinted, ab)).rgb
                    gains[(mode, settings, count)].append(psnr(out, truth) - auto)
    for (mode, settings, count), g in sorted(gains.items(), key=lambda kv: (kv[0][2], -np.mean(kv[1]))):
        print(
            json.dumps(
                {
                    "mode": mode,
                    "settings": settings,
                    "hints": count,
                    "gain_db": round(float(np.mean(g)), 3),
                    "worse": int(sum(x < 0 for x in g)),
                    "photos": len(g),
                }
            )
        )


if __name__ == "__main__":
    main()
