"""Colorizing speed and memory on a 12-megapixel photo, against the floor of decoding and re-encoding it.

Each configuration runs in its own process so its peak memory is its own. Times are medians of --repeats
runs after one warm-up, excluding start-up; start-up (import + model load) is reported separately.

    .venv/bin/python bench/colorize_speed.py [--weights DIR] [--repeats 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, statistics, sys, time
t0 = time.perf_counter()
from autocolor.pipeline import Colorizer
from autocolor.io import load_image, save_image
from PIL import Image
path, weights, render, precision, repeats, out = sys.argv[1:7]
c = Colorizer.from_pretrained(None if weights == "-" else weights, precision=precision)
startup = time.perf_counter() - t0
def floor():
    im = load_image(path)
    save_image(out, im.rgb)
def run():
    im = load_image(path)
    res = c.colorize_loaded([im], int(render))[0]
    save_image(out, res.rgb)
times = {}
for name, fn in (("floor", floor), ("colorize", run)):
    fn()
    ts = []
    for _ in range(int(repeats)):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    times[name] = statistics.median(ts)
print(json.dumps({"render_size": int(render), "precision": precision, "startup_s": round(startup, 2),
                  "decode_encode_s": round(times["floor"], 3), "colorize_s": round(times["colorize"], 3),
                  "beyond_floor_s": round(times["colorize"] - times["floor"], 3),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="-", help="generator folder (default: the bundled one)")
    ap.add_argument("--photo", help="a photo to scale to 4000x3000 (default: the first example)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from PIL import Image

    root = Path(__file__).resolve().parents[1]
    src = Path(args.photo) if args.photo else sorted((root / "examples").glob("*.jpg"))[0]
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "12mp.jpg"
        Image.open(src).convert("RGB").resize((4000, 3000), Image.Resampling.LANCZOS).save(big, quality=95)
        for render in (256, 320, 512):
            for precision in ("fp32", "bf16"):
                cmd = [
                    sys.executable,
                    "-c",
                    CHILD,
                    str(big),
                    args.weights,
                    str(render),
                    precision,
                    str(args.repeats),
                    str(Path(tmp) / "out.jpg"),
                ]
                print(
                    subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip(), flush=True
                )


if __name__ == "__main__":
    main()
