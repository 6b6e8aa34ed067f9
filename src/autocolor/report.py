"""A run folder's training report: `curves.png` (matplotlib) and `report.html`, no server needed.

Reads what the trainer writes (`metrics.jsonl`, `samples/step_XXXXXXXX.png`, `config.json`), so it works on a
run in progress (a half-written last line is skipped) as well as on a finished one; run it again to refresh.
"""

from __future__ import annotations

import html
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from .messages import MissingExtra

log = logging.getLogger("autocolor.report")

# (metric key, label) per panel; a panel is drawn when the run logged any of its keys
_TRAIN_PANELS = (
    ("reconstruction loss (L1)", (("loss_rec", "L1"),)),
    ("adversarial losses", (("loss_g_adv", "G"), ("loss_d", "D"))),
    ("discriminator's mean logits", (("d_real", "real pairs"), ("d_fake", "generated pairs"))),
    ("generator total loss", (("loss_g", "G total"),)),
    ("learning rate", (("lr", "lr"),)),
    ("speed (images/s)", (("images_per_s", "images/s"),)),
)
_VAL_PANELS = (
    ("validation PSNR (dB)", (("psnr", "PSNR"),)),
    ("validation colourfulness", (("colorfulness", "output"), ("colorfulness_truth", "real photos"))),
    ("validation L1 (ab)", (("l1", "L1"),)),
)


def read_metrics(run: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of RUN/metrics.jsonl; lines that are not JSON objects (a line being written) are skipped."""
    path = Path(run) / "metrics.jsonl"
    if not Path(run).is_dir():
        raise FileNotFoundError(f"{run}: not a run folder (no such directory)")
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no metrics yet; is {run} a training run folder (autocolor train --out)?"
        )
    records = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            log.warning("%s:%d: not a JSON record, skipped", path, n)
            continue
        if isinstance(record, dict) and "step" in record:
            records.append(record)
    return records


def series(records: list[dict[str, Any]], kind: str, key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one metric; a resumed run's repeated steps keep the last value written."""
    points: dict[int, float] = {}
    for r in records:
        if r.get("kind") == kind and isinstance(r.get(key), (int, float)):
            points[int(r["step"])] = float(r[key])
    steps = sorted(points)
    return steps, [points[s] for s in steps]


def plot_curves(records: list[dict[str, Any]], path: str | os.PathLike, title: str = "") -> Path:
    """Draw every logged training and validation metric against the step into one PNG."""
    Figure = _figure_class()
    panels = []
    for kind, spec in (("train", _TRAIN_PANELS), ("val", _VAL_PANELS)):
        for name, keys in spec:
            lines = [(label, *series(records, kind, key)) for key, label in keys]
            lines = [line for line in lines if line[1]]
            if lines:
                panels.append((name, lines))
    if not panels:
        raise ValueError(f"{path}: nothing to plot: the run has logged no step yet")
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(4.2 * cols, 2.8 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, (name, lines) in zip(axes.flat, panels, strict=False):
        for label, steps, values in lines:
            ax.plot(steps, values, label=label, marker="o" if len(steps) < 30 else None, ms=3)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if len(lines) > 1:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path


def sample_grids(run: str | os.PathLike) -> list[tuple[int, Path]]:
    """(step, path) of the run's validation sample grids, in step order."""
    found = []
    for p in (Path(run) / "samples").glob("step_*.png"):
        try:
            found.append((int(p.stem.split("_", 1)[1]), p))
        except ValueError:
            continue
    return sorted(found)


def write_report(run: str | os.PathLike) -> Path:
    """Write RUN/curves.png and RUN/report.html (curves, last numbers, config, sample grids); returns the html."""
    run = Path(run)
    records = read_metrics(run)
    plot_curves(records, run / "curves.png", title=run.resolve().name)
    config = {}
    if (run / "config.json").is_file():
        config = json.loads((run / "config.json").read_text())
    steps_total = config.get("train", {}).get("steps")
    last_step = max((int(r["step"]) for r in records), default=0)
    vals = [r for r in records if r.get("kind") == "val"]
    grids = sample_grids(run)
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>autocolor run {e(run.resolve().name)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em}"
        "table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
        "figure{display:inline-block;margin:0 1em 1em 0}img{max-width:100%}</style></head><body>",
        f"<h1>Run {e(run.resolve().name)}</h1>",
        f"<p>step {last_step}"
        + (f" of {steps_total}" if steps_total else "")
        + f"; report written {time.strftime('%Y-%m-%d %H:%M:%S')} (run <code>autocolor report {e(str(run))}</code>"
        " again to refresh).</p>",
        "<h2>Curves</h2><img src='curves.png' alt='training curves'>",
    ]
    if vals:
        keys = ["step", "psnr", "colorfulness", "colorfulness_truth", "l1", "score"]
        parts.append("<h2>Validation</h2><table><tr>" + "".join(f"<th>{k}</th>" for k in keys) + "</tr>")
        for r in vals:
            cells = [r.get(k, "") for k in keys]
            parts.append(
                "<tr>"
                + "".join(f"<td>{c:.4g}</td>" if isinstance(c, float) else f"<td>{c}</td>" for c in cells)
                + "</tr>"
            )
        parts.append("</table>")
    if grids:
        parts.append("<h2>Samples</h2><p>Each grid: gray input | output | real photo, newest first.</p>")
        for step, p in reversed(grids):
            rel = p.relative_to(run).as_posix()
            parts.append(
                f"<figure><img loading='lazy' src='{e(rel)}' alt='step {step}'><figcaption>step {step}"
                "</figcaption></figure>"
            )
    if config:
        parts.append(f"<h2>Config</h2><pre>{e(json.dumps(config, indent=2))}</pre>")
    parts.append("</body></html>\n")
    out = run / "report.html"
    out.write_text("\n".join(parts))
    return out


def _figure_class():
    """matplotlib's Figure, drawn without pyplot so no global backend is chosen (safe inside notebooks)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise MissingExtra("autocolor report", "train") from e
    return Figure
