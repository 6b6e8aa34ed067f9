"""Video benchmark: throughput with and without stabilisation (same run, alternating, medians), and peak memory
for a whole clip against its first 100 frames (each in its own process).

    .venv/bin/python bench/video_speed.py --video ../shared/videos/vtest.avi --frames 40 --repeats 3
    .venv/bin/python bench/video_speed.py --video ../shared/videos/vtest.avi --memory --render-size 128

Prints one JSON object per measurement.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import av


def trim(src: str, dst: Path, frames: int) -> Path:
    """Copy the first `frames` video packets of src into dst without re-encoding (same container type)."""
    with av.open(src) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for i, packet in enumerate(inp.demux(inp.streams.video[0])):
            if i >= frames or packet.dts is None:
                break
            packet.stream = stream
            out.mux(packet)
    return dst


def run_one(clip: str, out: str, stabilize: bool, render_size: int | None, threads: int) -> dict:
    """Colorize clip -> out in this process; frames/s and peak resident memory (MB)."""
    import resource

    import torch

    from autocolor import Colorizer

    torch.set_num_threads(threads)
    colorizer = Colorizer.from_pretrained()
    r = colorizer.colorize_video(clip, out, stabilize=stabilize, render_size=render_size)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"frames": r.frames, "seconds": r.seconds, "fps": r.frames / r.seconds, "peak_mb": peak}


def in_process(*args) -> dict:
    code = "import json, sys; sys.path.insert(0, 'bench'); from video_speed import run_one; " + (
        f"print(json.dumps(run_one(*{list(args)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--video", required=True)
    p.add_argument("--frames", type=int, default=40, help="throughput: frames of the clip to colorize")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--render-size", type=int)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--memory", action="store_true", help="peak memory: whole clip vs its first 100 frames")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        suffix = Path(args.video).suffix
        if args.memory:
            short = trim(args.video, tmp / f"first100{suffix}", 100)
            rows = {}
            for name, clip in (("first 100 frames", str(short)), ("whole clip", args.video)):
                rows[name] = in_process(clip, str(tmp / "out.mp4"), True, args.render_size, args.threads)
                print(json.dumps({"memory": name, **rows[name]}), flush=True)
            ratio = rows["whole clip"]["peak_mb"] / rows["first 100 frames"]["peak_mb"]
            print(json.dumps({"peak_memory_ratio_whole_vs_100": round(ratio, 3)}))
            return
        clip = str(trim(args.video, tmp / f"clip{suffix}", args.frames))
        fps: dict[str, list[float]] = {"per-frame": [], "stabilized": []}
        for _ in range(args.repeats):
            for name in fps:
                r = in_process(
                    clip, str(tmp / "out.mp4"), name == "stabilized", args.render_size, args.threads
                )
                fps[name].append(r["fps"])
        med = {name: statistics.median(v) for name, v in fps.items()}
        print(json.dumps({"frames": args.frames, "fps_runs": fps, "fps_median": med}))
        print(
            json.dumps(
                {"throughput_ratio_stabilized_vs_per_frame": round(med["stabilized"] / med["per-frame"], 3)}
            )
        )


if __name__ == "__main__":
    main()
