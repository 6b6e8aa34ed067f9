"""ONNX Runtime vs PyTorch on real photos: the final 8-bit images of both backends, compared per channel.

    .venv/bin/python bench/onnx_parity.py --data ../shared/photos/val [--onnx DIR --weights DIR]

Both backends run the same front end (pipeline.Colorizer) at the model's default settings; the torch backend
runs the generator and composer.py's modules in PyTorch, the onnx backend their ONNX exports. Prints one line
per photo and a summary: mean and max absolute difference per channel (R, G, B), in 8-bit levels.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from autocolor.io import list_images, load_image
from autocolor.pipeline import Colorizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="folder of photos")
    ap.add_argument("--onnx", help="folder from `autocolor export --onnx` (default: the bundled model)")
    ap.add_argument("--weights", help="the same model's safetensors folder (default: the bundled model)")
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    onnx = Colorizer.from_pretrained(args.onnx, backend="onnx")
    ref = Colorizer.from_pretrained(args.weights, backend="torch")
    sums, worst, pixels, rows = np.zeros(3), np.zeros(3, dtype=int), 0, []
    for path in list_images(args.data)[: args.limit]:
        image = load_image(path)
        a = onnx.colorize_loaded([image])[0].rgb.astype(np.int16)
        b = ref.colorize_loaded([image])[0].rgb.astype(np.int16)
        d = np.abs(a - b).reshape(-1, 3)
        sums += d.sum(axis=0)
        pixels += d.shape[0]
        worst = np.maximum(worst, d.max(axis=0))
        rows.append(
            {"file": path.name, "mean": d.mean(axis=0).round(4).tolist(), "max": d.max(axis=0).tolist()}
        )
        print(json.dumps(rows[-1]), flush=True)
    mean = sums / max(pixels, 1)
    summary = {
        "photos": len(rows),
        "mean_abs_diff_rgb": mean.round(4).tolist(),
        "max_abs_diff_rgb": worst.tolist(),
        "worst_photo_mean": max((max(r["mean"]) for r in rows), default=0.0),
        "pass": bool(mean.max() <= 0.5 and worst.max() <= 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
