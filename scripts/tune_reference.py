"""Choose the settings of colour from a reference (autocolor/reference.py) on the selection split.

    python scripts/tune_reference.py --data RUN/split/select [--weights DIR]

For each (LOW, HIGH) similarity ramp and spread, colorizes crop pairs (the reference should help) and random
pairs (it should be left alone) with MIN_CONFIDENCE = 0, then prints, per MIN_CONFIDENCE, the mean gain over
automatic colour on each kind of pair. Choose the setting with the largest crop gain at which random pairs
lose nothing, and write it into reference.py. Never run it on val.
"""

from __future__ import annotations

import argparse
import itertools
import json

import numpy as np

from autocolor import reference
from autocolor.io import list_images
from autocolor.pipeline import Colorizer
from autocolor.reference_eval import evaluate_pairs


def floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", default=None, help="model folder (default: the bundled model)")
    ap.add_argument("--ramps", default="0.55:0.8,0.65:0.85,0.75:0.9", help="LOW:HIGH pairs")
    ap.add_argument("--sigma-s", default="30,60,150")
    ap.add_argument("--sigma-r", default="10,20,30")
    ap.add_argument("--min-confidence", default="0.1,0.15,0.2,0.25,0.3,0.4")
    args = ap.parse_args()
    colorizer = Colorizer.from_pretrained(args.weights)
    paths = list_images(args.data)
    reference.MIN_CONFIDENCE = 0.0
    ramps = [tuple(map(float, r.split(":"))) for r in args.ramps.split(",")]
    for (low, high), sigma_s, sigma_r in itertools.product(ramps, floats(args.sigma_s), floats(args.sigma_r)):
        reference.LOW, reference.HIGH = low, high
        reference.SIGMA_S, reference.SIGMA_R = sigma_s, sigma_r
        runs = {p: evaluate_pairs(colorizer, paths, p) for p in ("crops", "random")}
        for floor in floats(args.min_confidence):
            gains = {
                p: float(np.mean([r["gain"] if r["confidence"] >= floor else 0.0 for r in rows]))
                for p, rows in runs.items()
            }
            line = {"low": low, "high": high, "sigma_s": sigma_s, "sigma_r": sigma_r, "min_confidence": floor}
            print(json.dumps({**line, **{f"{p}_gain": round(g, 3) for p, g in gains.items()}}), flush=True)


if __name__ == "__main__":
    main()
