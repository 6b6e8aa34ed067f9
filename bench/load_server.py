"""Load check for `autocolor serve`: N concurrent clients post photos to a real server on localhost.

Prints one JSON line: requests, errors, latency percentiles, throughput and the server's peak memory.

    .venv/bin/python bench/load_server.py [--weights DIR] [--clients 8] [--requests 32] [--megapixels 2]
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", help="generator folder (default: bundled)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--megapixels", type=float, default=2.0)
    args = ap.parse_args()
    root = Path(__file__).resolve().parents[1]
    photo = Image.open(sorted((root / "examples").glob("*.jpg"))[0]).convert("L")
    scale = (args.megapixels * 1e6 / (photo.width * photo.height)) ** 0.5
    photo = photo.resize((round(photo.width * scale), round(photo.height * scale)))
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=95)
    body = buf.getvalue()
    boundary = "autocolorload"
    data = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )

    port = _free_port()
    cmd = [sys.executable, "-m", "autocolor", "serve", "--port", str(port)]
    if args.weights:
        cmd += ["--weights", args.weights]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        idle_mb = _peak_rss_mb(server.pid)

        def post(_):
            req = urllib.request.Request(
                url + "/api/colorize",
                data=data,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=300) as r:
                    ok = r.status == 200 and Image.open(io.BytesIO(r.read())).size == photo.size
            except OSError:
                ok = False
            return ok, time.perf_counter() - t

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            results = list(pool.map(post, range(args.requests)))
        wall = time.perf_counter() - t0
        lat = sorted(t for _, t in results)
        print(
            json.dumps(
                {
                    "clients": args.clients,
                    "requests": args.requests,
                    "image": f"{photo.width}x{photo.height}",
                    "errors": sum(not ok for ok, _ in results),
                    "wall_s": round(wall, 1),
                    "images_per_s": round(args.requests / wall, 2),
                    "latency_median_s": round(statistics.median(lat), 2),
                    "latency_max_s": round(lat[-1], 2),
                    "server_rss_idle_mb": round(idle_mb),
                    "server_peak_rss_mb": round(_peak_rss_mb(server.pid)),
                }
            )
        )
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
