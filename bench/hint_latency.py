"""How long the web page waits after a change to its colour points, for a 2-megapixel photo.

Starts `autocolor serve` (bundled model unless --weights), then posts the same JPEG with a different set of
hints each time, as the page does, and reports the median round trip (upload, network at render size,
full-resolution colour composition, PNG encoding, download) against the first request (which also decodes the
photo). The goal is under a second. Medians of --repeats runs; numbers depend on the machine and its load.

    .venv/bin/python bench/hint_latency.py [--weights DIR] [--repeats 7]
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid

import numpy as np
from PIL import Image


def _photo(width: int = 1732, height: int = 1155) -> bytes:  # 2.0 MP
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    gray = (128 + 60 * np.sin(x / 37.0) * np.cos(y / 53.0) + rng.normal(0, 8, (height, width))).clip(0, 255)
    buf = io.BytesIO()
    Image.fromarray(gray.astype(np.uint8)).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _post(url: str, photo: bytes, hints: list[dict]) -> float:
    b = uuid.uuid4().hex
    body = (
        f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
        + photo
        + f'\r\n--{b}\r\nContent-Disposition: form-data; name="hints"\r\n\r\n{json.dumps(hints)}\r\n--{b}--\r\n'.encode()
    )
    req = urllib.request.Request(
        url + "/api/colorize", body, {"Content-Type": f"multipart/form-data; boundary={b}"}
    )
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "autocolor", "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd + (["--weights", args.weights] if args.weights else []))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        photo = _photo()
        first = _post(url, photo, [])
        times = [
            _post(url, photo, [{"x": 100 + 50 * i, "y": 500, "color": "#2050ff"}])
            for i in range(args.repeats)
        ]
        print(json.dumps({"megapixels": 2.0, "first_request_s": round(first, 3),
                          "hint_change_median_s": round(statistics.median(times), 3),
                          "hint_change_max_s": round(max(times), 3), "repeats": args.repeats}))  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
