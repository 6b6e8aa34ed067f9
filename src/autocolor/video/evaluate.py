"""`autocolor evaluate --video`: make a colour clip gray, colorize it per frame and stabilised (the network runs
once per frame; both outputs share its prediction), and report PSNR, colourfulness and E_warp against the
truth, with the gray input's PSNR as the baseline and the truth's own E_warp as the floor."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tqdm import tqdm

from ..color import gray_uint8
from ..metrics import colorfulness, psnr
from ..pipeline import Colorizer
from .flicker import WarpError
from .frames import ColorStages
from .media import VideoReader
from .stabilize import Stabilizer, StabilizerConfig

ROWS = ("gray", "per-frame", "stabilized", "truth")


def evaluate_video(
    colorizer: Colorizer,
    clip: str | os.PathLike,
    render_size: int | None = None,
    config: StabilizerConfig | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> dict:
    """-> {"clip", "frames", "cuts", "rows": {row: {"psnr", "colorfulness", "ewarp"}}} for the rows gray (the
    input), per-frame, stabilized and truth; PSNR and colourfulness are means over frames."""
    stages = ColorStages(colorizer, render_size)
    stabilizer = Stabilizer(config)
    ewarp = WarpError()
    sums = {row: {"psnr": 0.0, "colorfulness": 0.0} for row in ROWS}
    n = 0
    with VideoReader(clip) as reader:
        total = min(reader.info.frames, limit) if limit else reader.info.frames
        bar = tqdm(
            total=total or None, unit="frame", desc=Path(clip).name, disable=not progress, file=sys.stderr
        )
        for truth, _ in reader.frames():
            if limit and n >= limit:
                break
            gray = gray_uint8(truth)
            p = stages.predict_ab(gray)
            outs = {
                "gray": gray,
                "per-frame": stages.compose(p.prepared, p.ab),
                "stabilized": stages.compose(p.prepared, stabilizer(p.gray, p.ab)),
                "truth": truth,
            }
            for row, frame in outs.items():
                sums[row]["psnr"] += min(psnr(frame, truth), 100.0)
                sums[row]["colorfulness"] += colorfulness(frame)
            ewarp.add(gray[..., 0], outs)
            n += 1
            bar.update()
        bar.close()
    errors = ewarp.result()
    rows = {
        row: {"psnr": s["psnr"] / n, "colorfulness": s["colorfulness"] / n, "ewarp": errors.get(row, 0.0)}
        for row, s in sums.items()
    }
    rows["truth"]["psnr"] = float("inf")
    return {"clip": str(clip), "frames": n, "cuts": stabilizer.cuts, "rows": rows}


def video_table(results: list[dict]) -> str:
    """Markdown: one block of rows per clip. E_warp x 1000, and its part above the gray input's (the colour
    flicker: every output shares the input's lightness, so the gray row's E_warp is in all of them); the last
    row of a block compares stabilised with per-frame (PSNR and colourfulness differences, E_warp ratios)."""
    lines = [
        "| clip | frames | output | PSNR (dB) | colourfulness | E_warp x1000 | above gray x1000 |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        name = Path(r["clip"]).name
        floor = r["rows"]["gray"]["ewarp"]
        for row in ROWS:
            m = r["rows"][row]
            p = "-" if m["psnr"] == float("inf") else f"{m['psnr']:.2f}"
            lines.append(
                f"| {name} | {r['frames']} | {row} | {p} | {m['colorfulness']:.1f} | {m['ewarp'] * 1000:.3f} | "
                f"{(m['ewarp'] - floor) * 1000:.3f} |"
            )
        per, stab = r["rows"]["per-frame"], r["rows"]["stabilized"]
        lines.append(
            f"| {name} | | stabilized / per-frame | {stab['psnr'] - per['psnr']:+.2f} | "
            f"{stab['colorfulness'] - per['colorfulness']:+.1f} | x{_ratio(stab['ewarp'], per['ewarp'])} | "
            f"x{_ratio(stab['ewarp'] - floor, per['ewarp'] - floor)} |"
        )
    return "\n".join(lines) + "\n"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "-"
