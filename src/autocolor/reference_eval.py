"""Measuring colour from a reference: pairs of photos whose truth is known, colorized with and without the
reference (`autocolor evaluate --reference-pairs crops|random`).

    crops:  each photo cut in two overlapping views: reference = its left 60%, target = its right 60% (the
            middle 20% of the photo is in both, framed differently): the reference should help
    random: each photo as target, another photo of the set (a fixed shuffle) as reference: mostly unrelated
            scenes, where the reference should be left alone (the fallback) or at least do no harm
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .atomic import atomic_open
from .io import load_image
from .metrics import colorfulness, psnr
from .pipeline import Colorizer
from .reference import enough

PAIRINGS = ("crops", "random")
SHARE = 0.6  # each crop's share of the photo's width


def crop_pair(rgb: np.ndarray, share: float = SHARE) -> tuple[np.ndarray, np.ndarray]:
    """A photo -> (its left `share`, its right `share`), overlapping by 2 * share - 1 of its width."""
    w = rgb.shape[1]
    cut = round(w * share)
    return rgb[:, :cut], rgb[:, w - cut :]


def pairs(paths: Sequence[Path], pairing: str, seed: int = 0) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, reference rgb, target rgb) for each photo, as `pairing` says (see the module's text)."""
    if pairing not in PAIRINGS:
        raise ValueError(f"unknown pairing '{pairing}'; choose one of {', '.join(PAIRINGS)}")
    if pairing == "crops":
        for path in paths:
            ref, target = crop_pair(load_image(path).rgb)
            yield path.name, ref, target
        return
    if len(paths) < 2:
        raise ValueError("random pairs need at least two photos")
    order = list(range(len(paths)))
    random.Random(seed).shuffle(order)
    for k, i in enumerate(order):  # each photo's reference: the next one in the shuffled order
        j = order[(k + 1) % len(order)]
        yield f"{paths[i].name} <- {paths[j].name}", load_image(paths[j]).rgb, load_image(paths[i]).rgb


def evaluate_pairs(
    colorizer: Colorizer, paths: Sequence[Path], pairing: str, seed: int = 0
) -> list[dict[str, float | str | bool]]:
    """One row per pair: PSNR of the target colorized automatically and with the reference, the gain, the
    reference's confidence and whether it was used, and both results' colourfulness relative to the truth."""
    rows = []
    for name, ref_rgb, target in pairs(paths, pairing, seed):
        ref = colorizer.reference(ref_rgb)
        auto = np.asarray(colorizer.colorize(target))
        steered = colorizer.colorize(target, reference=ref)
        out = np.asarray(steered)
        truth_c = max(colorfulness(target), 1e-6)
        auto_psnr, reference_psnr = psnr(auto, target), psnr(out, target)
        confidence = steered.info["reference_confidence"]
        rows.append(
            {
                "pair": name,
                "auto_psnr": auto_psnr,
                "reference_psnr": reference_psnr,
                "gain": reference_psnr - auto_psnr,
                "confidence": confidence,
                "used": enough(confidence),
                "auto_colorfulness": colorfulness(auto) / truth_c,
                "reference_colorfulness": colorfulness(out) / truth_c,
            }
        )
    return rows


def summarize(rows: list[dict]) -> dict[str, float]:
    """Means over the pairs, the share that used the reference, and the worst gain among those that did."""
    used = [r for r in rows if r["used"]]
    return {
        "pairs": len(rows),
        "auto_psnr": float(np.mean([r["auto_psnr"] for r in rows])),
        "reference_psnr": float(np.mean([r["reference_psnr"] for r in rows])),
        "gain": float(np.mean([r["gain"] for r in rows])),
        "used": len(used) / max(len(rows), 1),
        "worst_used_gain": float(min((r["gain"] for r in used), default=0.0)),
        "reference_colorfulness": float(np.mean([r["reference_colorfulness"] for r in rows])),
    }


def pairs_table(rows: list[dict], pairing: str) -> str:
    """Markdown: the summary of `evaluate_pairs`' rows."""
    s = summarize(rows)
    return (
        "| pairs | n | automatic PSNR | with reference | gain (dB) | used | worst gain where used | "
        "colourfulness |\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {pairing} | {s['pairs']} | {s['auto_psnr']:.2f} | {s['reference_psnr']:.2f} | {s['gain']:+.2f} | "
        f"{s['used']:.0%} | {s['worst_used_gain']:+.2f} | {s['reference_colorfulness']:.0%} |\n"
    )


def write_rows(rows: list[dict], path: Path) -> None:
    """Each pair's row, as CSV (written atomically)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]) if rows else ["pair"])
    writer.writeheader()
    writer.writerows(rows)
    with atomic_open(path) as f:
        f.write(text.getvalue().encode())
