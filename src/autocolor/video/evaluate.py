"""`autocolor evaluate --video`: make a colour clip gray, colorize it per frame and stabilised (the network runs
once per frame; both outputs share its prediction), and report PSNR, colourfulness and E_warp against the
truth, with the gray input's PSNR as the baseline and the truth's own E_warp as the floor."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from ..color import gray_uint8
from ..metrics import colorfulness, psnr
from .flicker import WarpError
from .frames import ColorStages
from .media import VideoReader
from .stabilize import Stabilizer, StabilizerConfig

if TYPE_CHECKING:  # the Colorizer calls into this module (colorize_video, colorize_frames)
    from ..pipeline import Colorizer

ROWS = ("gray", "per-frame", "stabilized", "truth")
REFERENCE_ROW = "stabilized+reference"  # with `reference_frame`: stabilised, coloured after that true frame


def evaluate_video(
    colorizer: Colorizer,
    clip: str | os.PathLike,
    render_size: int | None = None,
    config: StabilizerConfig | None = None,
    limit: int | None = None,
    progress: bool = True,
    reference_frame: int | None = None,
) -> dict:
    """-> {"clip", "frames", "cuts", "rows": {row: {"psnr", "colorfulness", "ewarp"}}} for the rows gray (the
    input), per-frame, stabilized and truth; PSNR and colourfulness are means over frames. With
    `reference_frame` (an index), also the row stabilized+reference: the clip coloured after that frame in its
    true colour (the other frames only ever see their gray), and "reference_confidence", the mean share of
    a frame that matched it."""
    stages = ColorStages(colorizer, render_size)
    stabilizer = Stabilizer(config)
    rows_ = ROWS
    if reference_frame is not None:
        reference = colorizer.reference(_frame(clip, reference_frame), render_size)
        with_ref, ref_stabilizer = ColorStages(colorizer, render_size, (), reference), Stabilizer(config)
        confidence = 0.0
        rows_ = (*ROWS, REFERENCE_ROW)
    ewarp = WarpError()
    sums = {row: {"psnr": 0.0, "colorfulness": 0.0} for row in rows_}
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
            p = stages.predict(gray)
            outs = {
                "gray": gray,
                "per-frame": stages.compose(p.prepared, p.ab),
                "stabilized": stages.compose(p.prepared, stabilizer(p.gray, p.ab)),
                "truth": truth,
            }
            if reference_frame is not None:
                q = with_ref.predict(gray)
                outs[REFERENCE_ROW] = with_ref.compose(q.prepared, ref_stabilizer(q.gray, q.ab))
                confidence += q.prepared.match.confidence
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
    out = {"clip": str(clip), "frames": n, "cuts": stabilizer.cuts, "rows": rows}
    if reference_frame is not None:
        out.update(reference_frame=reference_frame, reference_confidence=confidence / max(n, 1))
    return out


def _frame(clip: str | os.PathLike, index: int):
    """Frame `index` (0-based, display order) of a clip, in its true colour."""
    count = 0
    with VideoReader(clip) as reader:
        for rgb, _ in reader.frames():
            if count == index:
                return rgb
            count += 1
    raise ValueError(f"{clip}: no frame {index} to take as the reference (it has {count} frames)")


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
        for row in r["rows"]:
            m = r["rows"][row]
            p = "-" if m["psnr"] == float("inf") else f"{m['psnr']:.2f}"
            label = row
            if row == REFERENCE_ROW:
                label += f" (frame {r['reference_frame']}, {r['reference_confidence']:.0%} matched)"
            lines.append(
                f"| {name} | {r['frames']} | {label} | {p} | {m['colorfulness']:.1f} | {m['ewarp'] * 1000:.3f} | "
                f"{(m['ewarp'] - floor) * 1000:.3f} |"
            )
        pairs = [("stabilized", "per-frame")] + [(REFERENCE_ROW, "stabilized")] * (REFERENCE_ROW in r["rows"])
        for a, b in pairs:
            new, old = r["rows"][a], r["rows"][b]
            lines.append(
                f"| {name} | | {a} / {b} | {new['psnr'] - old['psnr']:+.2f} | "
                f"{new['colorfulness'] - old['colorfulness']:+.1f} | x{_ratio(new['ewarp'], old['ewarp'])} | "
                f"x{_ratio(new['ewarp'] - floor, old['ewarp'] - floor)} |"
            )
    return "\n".join(lines) + "\n"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "-"
