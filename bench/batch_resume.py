"""Kill a 1,000-photo `autocolor colorize` halfway, re-run the same command, and report what each run did;
then two `--shard` runs; then the memory a folder scan needs, against listing the folder.

    PYTHONPATH=src python bench/batch_resume.py [--photos 1000] [--weights DIR] [--render-size 64]

Prints one JSON object: the kill point, photos redone (must be 0), photos written but not recorded before
the kill (kept, at most the jobs in flight), half-written files under final names (must be 0), temporary
files left after the re-run (must be 0), shard overlap (must be 0) and coverage, scan memory per file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image

from autocolor.batch import read_manifest
from autocolor.io import list_images
from autocolor.scan import count, plan


def make_photos(root: Path, n: int, size: int) -> list[Path]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    paths = []
    for i in range(n):
        c = rng.uniform(0, 1, (2, 3))
        img = (x[..., None] * c[0] + y[..., None] * c[1]) / 2
        p = root / f"roll{i // 100:02d}" / f"photo {i:04d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img * 255).astype(np.uint8)).save(p, quality=90)
        paths.append(p)
    return paths


def whole(path: Path) -> bool:
    try:
        with Image.open(path) as im:
            im.load()
        return True
    except Exception:
        return False


def resume(tmp: Path, photos: list[Path], base: list[str]) -> dict:
    out = tmp / "out"
    cmd = [*base, str(tmp / "in"), "-o", str(out)]
    manifest = out / "manifest.jsonl"
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    half = len(photos) // 2
    while not (manifest.is_file() and len(read_manifest(manifest)) >= half):
        if proc.poll() is not None:
            raise SystemExit("the batch finished before it could be killed; use more --photos")
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_after = time.perf_counter() - start
    first = {r["input"] for r in read_manifest(manifest) if r["status"] == "written"}
    finals = [p for p in out.rglob("*.jpg")]
    broken = [str(p) for p in finals if not whole(p)]
    parts_after_kill = len(list(out.rglob(".*.part")))
    start = time.perf_counter()
    again = subprocess.run(cmd, capture_output=True, text=True)
    rerun_s = time.perf_counter() - start
    second = read_manifest(manifest)[-len(photos) :]  # the re-run's one line per photo
    written2 = {r["input"] for r in second if r["status"] == "written"}
    kept2 = {r["input"] for r in second if r["status"] == "exists"}
    return {
        "photos": len(photos),
        "killed_after_s": round(killed_after, 1),
        "written_before_kill_recorded": len(first),
        "files_under_final_name_at_kill": len(finals),
        "half_written_files_under_final_name": len(broken),
        "temporary_files_left_by_the_kill": parts_after_kill,
        "rerun_exit_status": again.returncode,
        "rerun_written": len(written2),
        "rerun_kept_as_done": len(kept2),
        "redone": len(first & written2),
        "written_but_unrecorded_at_kill": len(kept2 - first),
        "missing_after_rerun": len({str(p) for p in photos} - written2 - kept2),
        "temporary_files_after_rerun": len(list(out.rglob(".*.part"))),
        "all_outputs_whole": all(whole(p) for p in out.rglob("*.jpg")),
        "rerun_s": round(rerun_s, 1),
        "rerun_summary": again.stderr.strip().splitlines()[-1],
    }


def shards(tmp: Path, photos: list[Path], base: list[str], n: int = 2) -> dict:
    out = tmp / "sharded"
    done = []
    for k in range(n):
        subprocess.run(
            [*base, str(tmp / "in"), "-o", str(out), "--shard", f"{k}/{n}"], check=True, capture_output=True
        )
        records = read_manifest(out / f"manifest.shard-{k}-of-{n}.jsonl")
        done.append({r["input"] for r in records if r["status"] == "written"})
    union = set().union(*done)
    return {
        "shards": n,
        "per_shard": [len(d) for d in done],
        "overlap": sum(len(d) for d in done) - len(union),
        "covered": len(union & {str(p) for p in photos}),
        "of": len(photos),
    }


def scan_memory(tmp: Path, files: int = 100_000) -> dict:
    root = tmp / "tree"
    for i in range(files):
        folder = root / f"f{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True)
        (folder / f"IMG_{i:06d}.jpg").touch()
    out = tmp / "tree-out"
    tracemalloc.start()
    n = count(plan([root], out, lambda _, rel: out / rel))
    scan_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    listed = len(list_images(root))
    list_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "files": n,
        "listed": listed,
        "scan_peak_bytes": scan_peak,
        "scan_bytes_per_file": round(scan_peak / n, 1),
        "list_images_peak_bytes": list_peak,
        "list_images_bytes_per_file": round(list_peak / listed, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--size", type=int, default=96, help="side of each synthetic photo")
    ap.add_argument("--weights", help="generator folder (default: bundled)")
    ap.add_argument("--render-size", type=int, default=64)
    ap.add_argument("--scan-files", type=int, default=100_000)
    args = ap.parse_args()
    base = [sys.executable, "-m", "autocolor", "colorize", "--render-size", str(args.render_size)]
    if args.weights:
        base += ["--weights", args.weights]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photos = make_photos(tmp / "in", args.photos, args.size)
        report = {"resume": resume(tmp, photos, base), "shards": shards(tmp, photos, base)}
        report["scan"] = scan_memory(tmp, args.scan_files)
    report["command"] = " ".join(["python bench/batch_resume.py", *sys.argv[1:]])
    report["cpus"] = os.cpu_count()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
