"""Figures for evaluation reports (matplotlib, the [train] extra, imported only when a figure is drawn)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from .messages import MissingExtra

log = logging.getLogger("autocolor.plots")

_HINT_ROW = re.compile(r"(?P<model>.+) \+(?P<count>\d+) hints")


def hint_curves(summary: dict) -> dict[str, list[tuple[int, float]]]:
    """Evaluation summary -> {model: [(hints, PSNR), ...]} for every model with hint rows (0 = its plain row)."""
    curves: dict[str, list[tuple[int, float]]] = {}
    for name, row in summary["rows"].items():
        m = _HINT_ROW.fullmatch(name)
        if m:
            curves.setdefault(m["model"], []).append((int(m["count"]), row["psnr"]))
    for model, points in curves.items():
        points.append((0, summary["rows"][model]["psnr"]))
        points.sort()
    return curves


def hint_curve(summary: dict, path: Path) -> Path | None:
    """PSNR against the number of simulated hints, one line per model, gray as a reference line -> PNG.
    Returns None (and draws nothing) when no model has hint rows or matplotlib is missing."""
    curves = hint_curves(summary)
    if not curves:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("%s; hints.png skipped", MissingExtra("drawing hints.png", "train"))
        return None
    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=120)
    for model, points in curves.items():
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", label=model)
    ax.axhline(summary["rows"]["gray"]["psnr"], color="gray", linestyle="--", label="gray (no colour)")
    ax.set_xlabel("colour hints per photo (simulated from the truth)")
    ax.set_ylabel("PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
