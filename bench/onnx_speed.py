"""Speed of colorizing one 12-megapixel photo: onnxruntime backend against the PyTorch path, same run.

    .venv/bin/python bench/onnx_speed.py [--photo PHOTO] [--repeats 7] [--baseline-ref REF]

Three measurements, each a median over --repeats runs, the backends alternating so that load on a shared
machine hits both alike:
  1. whole process: `autocolor colorize 12mp.jpg -o OUT` from process start to exit, --backend onnx vs torch
     (with --baseline-ref, the torch side runs the autocolor of that git commit instead, e.g. the code before
     the ONNX backend existed);
  2. in process: decode -> colorize -> encode of the 12 MP file, against Pillow decoding and re-encoding the
     same file (the floor no colorizer can beat), per backend;
  3. start-up: a process that imports autocolor and loads the bundled model, start to exit (wall clock, and
     the CPU time it used, which a loaded machine inflates less).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

IN_PROCESS = r"""
import json, statistics, sys, time
from autocolor.io import load_image, save_image
from autocolor.pipeline import Colorizer
path, out, backend, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = Colorizer.from_pretrained(backend=backend)
def floor():
    im = load_image(path)
    save_image(out, im.rgb)
def run():
    im = load_image(path)
    save_image(out, c.colorize_loaded([im])[0].rgb)
times = {"floor": [], "colorize": []}
floor(); run()
for _ in range(repeats):
    for name, fn in (("floor", floor), ("colorize", run)):
        t = time.perf_counter(); fn(); times[name].append(time.perf_counter() - t)
f, k = statistics.median(times["floor"]), statistics.median(times["colorize"])
print(json.dumps({"backend": backend, "decode_encode_s": round(f, 3), "colorize_s": round(k, 3),
                  "ratio": round(k / f, 2)}))
"""


def cpu_children() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def wall(cmd: list[str], env: dict, cpu: list[float] | None = None) -> float:
    """Wall-clock seconds of running `cmd`; appends its CPU seconds to `cpu` when given."""
    c0, t = cpu_children(), time.perf_counter()
    res = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if res.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{res.stderr}")
    elapsed = time.perf_counter() - t
    if cpu is not None:
        cpu.append(cpu_children() - c0)
    return elapsed


def env_for(src: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(src)}


def baseline_tree(ref: str, tmp: Path) -> Path:
    """The src/ folder of autocolor at git commit `ref`, unpacked into tmp."""
    tree = tmp / "baseline"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree / "src"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photo", help="a photo to scale to 4000x3000 (default: the first example)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--baseline-ref", help="git commit whose autocolor is the torch side of measurement 1")
    args = ap.parse_args()
    from PIL import Image

    src = Path(args.photo) if args.photo else sorted((ROOT / "examples").glob("*.jpg"))[0]
    ours = env_for(ROOT / "src")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big = tmp / "12mp.jpg"
        Image.open(src).convert("RGB").resize((4000, 3000), Image.Resampling.LANCZOS).save(big, quality=95)
        py = sys.executable
        cli = [py, "-m", "autocolor", "colorize", str(big), "-o", "OUT"]
        sides = {"onnx": (cli + ["--backend", "onnx"], ours), "torch": (cli + ["--backend", "torch"], ours)}
        if args.baseline_ref:
            sides["torch"] = (cli, env_for(baseline_tree(args.baseline_ref, tmp)))
        startup = [py, "-c", "from autocolor.pipeline import Colorizer; Colorizer.from_pretrained()"]
        runs: dict[str, list[float]] = {"onnx": [], "torch": [], "startup": []}
        startup_cpu: list[float] = []
        for i in range(args.repeats):
            for name, (cmd, env) in sides.items():  # a new output folder each run: nothing to skip
                runs[name].append(wall([str(tmp / f"{name}{i}") if c == "OUT" else c for c in cmd], env))
            runs["startup"].append(wall(startup, ours, startup_cpu))
        med = {k: statistics.median(v) for k, v in runs.items()}
        print(
            json.dumps(
                {
                    "photo": str(src),
                    "repeats": args.repeats,
                    "whole_process_onnx_s": round(med["onnx"], 3),
                    "whole_process_torch_s": round(med["torch"], 3),
                    "torch_side": f"git {args.baseline_ref}" if args.baseline_ref else "--backend torch",
                    "onnx_over_torch": round(med["onnx"] / med["torch"], 3),
                    "startup_s": round(med["startup"], 3),
                    "startup_cpu_s": round(statistics.median(startup_cpu), 3),
                }
            ),
            flush=True,
        )
        for backend in ("onnx", "torch"):
            cmd = [py, "-c", IN_PROCESS, str(big), str(tmp / "x.jpg"), backend, str(args.repeats)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=ours).stdout
            print(out.strip(), flush=True)


if __name__ == "__main__":
    main()
