"""Every speed and memory figure of the full-resolution colour path, each beside its floor or target, in one run.

    .venv/bin/python bench/speed.py [--runs 5] [--skip browser,server,install,video]

- photo: `autocolor colorize` on a gray 4000x3000 JPEG against the same command on a 64x48 one (start-up is in
  both and cancels out), alternating, median of --runs; floor: Pillow decoding that JPEG and saving the
  result as a quality-95 4:4:4 colour JPEG (median of --runs, in this process). Target: at most 3x the floor.
- memory: peak RSS of `autocolor colorize` on the 12 MP photo (target 500 MB) and on a 100 MP one (1 GB).
- browser: bench/browser_speed.py on the 12 MP photo: in the browser (WebAssembly, 2 threads) against the
  server path including its upload (target 1.5x).
- server: bench/load_server.py: 20 uploads at once with a 40 MP one, 12 slow clients (targets in its checks).
- install: bench/fresh_install.sh: site-packages of `pip install .` (target 250 MB).
- video: bench/video_speed.py on a 1280x720 clip (made here): frames/s per frame and stabilised (target: the
  stabilised rate at least 0.9x the per-frame one).

Prints one markdown table (figure, value, floor or target, met) and exits 1 if a target is missed. The
machine is shared and noisy: the ratios are what to compare, each measured within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _cli(*args: str) -> float:
    t = time.perf_counter()
    subprocess.run([PY, "-m", "autocolor", *args], check=True, capture_output=True)
    return time.perf_counter() - t


def _peak_mb(*args: str) -> float:
    """Peak RSS of `autocolor ARGS` in its own process (measured by a small parent of its own)."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run(
        [PY, "-c", code, PY, "-m", "autocolor", *args], check=True, capture_output=True, text=True
    )
    return int(out.stdout.split()[-1]) / 1024


def _gray_jpeg(path: Path, size: tuple[int, int]) -> Path:
    src = sorted((ROOT / "examples").glob("*.jpg"))[0]
    Image.open(src).convert("L").resize(size, Image.Resampling.BILINEAR).save(path, quality=92)
    return path


def photo(tmp: Path, runs: int) -> list[tuple]:
    big, tiny = _gray_jpeg(tmp / "big.jpg", (4000, 3000)), _gray_jpeg(tmp / "tiny.jpg", (64, 48))

    def floor() -> float:
        t = time.perf_counter()
        im = Image.open(big)
        im.load()
        im.convert("RGB").save(tmp / "floor.jpg", quality=95, subsampling=0)
        return time.perf_counter() - t

    floors, bigs, tinys = [], [], []
    _cli("colorize", str(tiny), "-o", str(tmp / "warm"))  # caches warm
    for i in range(runs):
        floors.append(floor())
        bigs.append(_cli("colorize", str(big), "-o", str(tmp / f"b{i}")))
        tinys.append(_cli("colorize", str(tiny), "-o", str(tmp / f"t{i}")))
    beyond = statistics.median(bigs) - statistics.median(tinys)
    fl = statistics.median(floors)
    huge = _gray_jpeg(tmp / "huge.jpg", (10000, 10000))
    mem12 = _peak_mb("colorize", str(big), "-o", str(tmp / "m12"))
    mem100 = _peak_mb("colorize", str(huge), "-o", str(tmp / "m100"))
    return [
        (
            "12 MP photo, whole process beyond start-up",
            f"{beyond:.2f} s",
            f"floor {fl:.2f} s (decode + encode)",
            None,
        ),
        (
            "  ... as a multiple of the floor",
            f"{beyond / fl:.1f}x",
            "at most 3x (stretch 2x)",
            beyond / fl <= 3,
        ),
        ("start-up (64x48 photo, whole process)", f"{statistics.median(tinys):.2f} s", "-", None),
        ("peak memory, 12 MP photo", f"{mem12:.0f} MB", "at most 500 MB", mem12 <= 500),
        ("peak memory, 100 MP photo", f"{mem100:.0f} MB", "at most 1024 MB", mem100 <= 1024),
    ]


def _json_lines(cmd: list[str]) -> list[dict]:
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def browser() -> list[tuple]:
    (r,) = _json_lines([PY, "bench/browser_speed.py", "--megapixels", "12", "--runs", "3"])[-1:]
    ratio = r["device_over_server"]
    return [(f"12 MP in the browser ({r['backend']}) vs the server path", f"{r['device_s']:.2f} s vs "
             f"{r['server_s']:.2f} s = {ratio:.2f}x", "at most 1.5x", ratio <= 1.5)]  # fmt: skip


def server() -> list[tuple]:
    (r,) = _json_lines([PY, "bench/load_server.py"])[-1:]
    ok = all(r["checks"].values())
    return [
        (
            "server: /healthz p99 under 20 uploads (one 40 MP)",
            f"{r['healthz_p99_ms']:.1f} ms",
            "under 100 ms",
            ok,
        ),
        ("server: peak memory under that load", f"{r['server_rss_peak_mb']} MB", "under 1536 MB", None),
        (
            "server: a 2 MP upload beside 12 slow clients",
            f"{r['upload_beside_slow_clients']['seconds']} s",
            "200 within 10 s",
            r["upload_beside_slow_clients"]["status"] == 200,
        ),  # fmt: skip
    ]


def install() -> list[tuple]:
    out = subprocess.run(["bash", "bench/fresh_install.sh"], capture_output=True, text=True, cwd=ROOT)
    m = re.search(r"site-packages: (\d+) MB", out.stdout)
    mb = int(m.group(1)) if m else float("nan")
    return [("`pip install .` site-packages", f"{mb} MB", "at most 250 MB", mb <= 250)]


def video(tmp: Path) -> list[tuple]:
    import av

    src = np.asarray(
        Image.open(sorted((ROOT / "examples").glob("*.jpg"))[1]).convert("RGB").resize((1600, 900))
    )
    clip = tmp / "720p.mp4"
    with av.open(str(clip), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 1280, 720, "yuv420p"
        for i in range(60):  # a slow pan
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(src[i : i + 720, 3 * i : 3 * i + 1280]))
            for packet in s.encode(frame):
                out.mux(packet)
        for packet in s.encode(None):
            out.mux(packet)
    rows = _json_lines([PY, "bench/video_speed.py", "--video", str(clip), "--frames", "60", "--repeats", "3"])
    fps = next(r["fps_median"] for r in rows if "fps_median" in r)
    ratio = fps["stabilized"] / fps["per-frame"]
    return [
        ("720p video, frames/s per frame", f"{fps['per-frame']:.1f}", "-", None),
        (
            "720p video, frames/s stabilised",
            f"{fps['stabilized']:.1f} ({ratio:.2f}x)",
            "at least 0.9x",
            ratio >= 0.9,
        ),
    ]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip", default="", help="comma-separated: photo,browser,server,install,video")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory() as tmp:
        parts = {"photo": lambda: photo(Path(tmp), args.runs), "browser": browser, "server": server,
                 "install": install, "video": lambda: video(Path(tmp))}  # fmt: skip
        for name, part in parts.items():
            if name not in skip:
                rows += part()
                print(f"{name}: done", file=sys.stderr, flush=True)
    print("| figure | value | floor or target | met |\n|---|---:|---|---|")
    for figure, value, target, met in rows:
        print(f"| {figure} | {value} | {target} | {'-' if met is None else 'yes' if met else 'NO'} |")
    print(f"\n{os.cpu_count()} CPU cores; every figure measured in this run")
    return 0 if all(met is not False for *_, met in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
