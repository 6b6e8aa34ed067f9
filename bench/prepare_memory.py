"""Peak memory of `prepare grayscale` on one large photo: the strip-based gray (now) against the whole-image
tensor path it replaced (load, `color.gray_uint8`, save), each in a fresh process.

    PYTHONPATH=src python bench/prepare_memory.py [--megapixels 24]

Prints JSON: peak RSS of each path above the same process's RSS just before the photo (after imports and a
warm-up on a tiny image; the peak is restarted with /proc/self/clear_refs, Linux), in MB and bytes per pixel.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

CHILD = """
import sys
from pathlib import Path
import numpy as np
from autocolor.color import gray_uint8
from autocolor.io import load_image, save_image
from autocolor.prepare import _write_gray
from autocolor.scan import Job

def status(key):  # KiB
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

def tensor_path(src, dst):  # what prepare grayscale did before
    image = load_image(src)
    save_image(dst, gray_uint8(image.rgb), image.alpha)

def strip_path(src, dst):
    _write_gray(Job(Path(src), Path(dst), "x"))

src, dst, path = sys.argv[1], sys.argv[2], sys.argv[3]
run = strip_path if path == "strips" else tensor_path
tiny = Path(dst).with_name("tiny.png")
save_image(tiny, np.zeros((8, 8, 3), np.uint8))
run(tiny, Path(dst).with_name("tiny-out.png"))  # one-time set-up (tables, kernels) is not per photo
open("/proc/self/clear_refs", "w").write("5")  # restart the peak (VmHWM) from here
base = status("VmRSS:")
run(src, dst)
print(base, status("VmHWM:"))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--megapixels", type=float, default=24.0)
    args = ap.parse_args()
    w = int((args.megapixels * 1e6 * 1.5) ** 0.5)
    h = int(args.megapixels * 1e6 / w)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "big.jpg"
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        rgb = np.stack([x / w, y / h, (x + y) / (w + h)], axis=-1)
        Image.fromarray((rgb * 255).astype(np.uint8)).save(src, quality=90)
        del rgb, x, y
        result = {"photo": f"{w}x{h}", "megapixels": round(w * h / 1e6, 1)}
        for path in ("tensor", "strips"):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(src), str(Path(tmp) / f"{path}.jpg"), path],
                capture_output=True,
                text=True,
                check=True,
            )
            base, peak = map(int, out.stdout.split())  # KiB: RSS before the photo, peak while on it
            extra = (peak - base) * 1024
            result[path] = {
                "peak_above_start_mb": round(extra / 2**20),
                "bytes_per_pixel": round(extra / (w * h), 1),
            }
        a = np.asarray(Image.open(Path(tmp) / "tensor.jpg").convert("L"), dtype=int)
        b = np.asarray(Image.open(Path(tmp) / "strips.jpg").convert("L"), dtype=int)
        result["max_gray_difference"] = int(np.abs(a - b).max())
    result["command"] = " ".join(["python bench/prepare_memory.py", *sys.argv[1:]])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
