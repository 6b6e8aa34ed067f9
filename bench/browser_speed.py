"""Colorizing in a real browser: one photo of `--megapixels`, on the device (onnxruntime-web in headless
Chromium) against the server path (the same page with its switch off), in the same run.

Starts `autocolor serve --port 0` (bundled model), opens the page in Chromium, waits until the model is loaded
(start-up), then colorizes the photo `--runs` times each way. While it colorizes on the device, the resident
memory of all the browser's processes is sampled (peak above the idle page: what the photo costs).

Prints one JSON line: start-up seconds, median wall seconds per photo each way, their ratio, the last device
run's milliseconds per stage, and the browser's extra peak memory in MB.

    .venv/bin/python bench/browser_speed.py [--megapixels 12] [--runs 3] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

PHOTO = Path(__file__).resolve().parents[1] / "examples" / "stdlib-dust-bowl-home.jpg"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def _tree_rss_mb(root: int, skip: int) -> float:
    """Resident memory of `root` and all its descendants except `skip`'s branch, in MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid == skip:
            continue
        todo += children.get(pid, [])
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * 4096 / 1e6


def _photo(megapixels: float, folder: Path) -> Path:
    im = Image.open(PHOTO)
    scale = (megapixels * 1e6 / (im.width * im.height)) ** 0.5
    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)
    path = folder / f"photo-{megapixels:g}mp.jpg"
    im.save(path, quality=92)
    return path


def _until(check, timeout: float = 900.0) -> None:
    """Poll `check` (the page's policy forbids the string evaluation that page.wait_for_function uses)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.05)


def _colorize(page, photo: Path, n: int) -> float:
    start = time.perf_counter()
    page.set_input_files("#picker", [str(photo)])
    _until(lambda: page.locator("article[data-state]").count() >= n)
    took = time.perf_counter() - start
    state = page.get_attribute("#results article:nth-child(1)", "data-state")
    if state != "done":
        raise SystemExit("colorizing failed: " + page.inner_text("#results article:nth-child(1) .status"))
    return took


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--megapixels", type=float, default=12.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "autocolor", "serve", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    url = server.stdout.readline().split("serving at ")[1].split()[0]
    try:
        with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
            photo = _photo(args.megapixels, Path(tmp))
            size = Image.open(photo).size
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page()
            start = time.perf_counter()
            page.goto(url)
            _until(lambda: "(" in page.inner_text("#where"), 600)
            startup = time.perf_counter() - start
            backend = page.inner_text("#where").rsplit("(", 1)[1].rstrip(")")
            idle = _tree_rss_mb(os.getpid(), skip=server.pid)  # this process, playwright and the browser
            peak, sampling = [idle], True

            def sample() -> None:
                while sampling:
                    peak.append(_tree_rss_mb(os.getpid(), skip=server.pid))
                    time.sleep(0.2)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            device = [_colorize(page, photo, i + 1) for i in range(args.runs)]
            sampling = False
            sampler.join()
            times = page.evaluate("window.autocolorLocal.lastTimes")
            page.uncheck("#on-device")
            server_path = [_colorize(page, photo, args.runs + i + 1) for i in range(args.runs)]
            browser.close()
        result = {
            "size": "x".join(map(str, size)),
            "backend": backend,
            "startup_s": round(startup, 2),
            "device_s": round(statistics.median(device), 2),
            "server_s": round(statistics.median(server_path), 2),
            "device_over_server": round(statistics.median(device) / statistics.median(server_path), 2),
            "device_stage_ms": times,
            "browser_extra_peak_mb": round(max(peak) - idle),
        }
        print(json.dumps(result))
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
