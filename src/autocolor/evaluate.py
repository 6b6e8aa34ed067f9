"""`autocolor evaluate`: colorize the gray version of every photo in a folder, compare with the original at
full resolution, and write per-image and summary tables plus a gallery picked by a fixed rule."""

from __future__ import annotations

import csv
import html
import json
import math
import os
import sys
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from .batch import BatchReport
from .color import gray_uint8
from .hint_sim import simulate_point_hints
from .io import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    ImageError,
    LoadedImage,
    list_images,
    load_image,
    save_image,
)
from .metrics import all_metrics
from .pipeline import Colorizer
from .plots import hint_curve

METRICS = ("psnr", "ssim", "ciede2000", "colorfulness", "colorfulness_truth", "auc")
GALLERY_ROWS = 8
GALLERY_HEIGHT = 192


def model_name(spec: str | None) -> tuple[str, str | None]:
    """'NAME=DIR' -> (NAME, DIR); 'DIR' -> (a name from the path, DIR); None -> the bundled model."""
    if spec is None:
        return "autocolor", None
    if "=" in spec:
        name, path = spec.split("=", 1)
        return name, path
    p = Path(spec).resolve()
    return (f"{p.parent.name}/{p.name}" if p.name in ("generator", "best") else p.name), spec


def gallery_picks(n: int, rows: int = GALLERY_ROWS) -> list[int]:
    """Every k-th image in name order, k = ceil(n / rows): a fixed rule, never hand-picked."""
    k = max(1, math.ceil(n / rows))
    return list(range(0, n, k))[:rows]


def evaluate(
    data: str | os.PathLike,
    weights: Sequence[str | None] = (None,),
    out: str | os.PathLike | None = None,
    render_size: int | None = None,
    limit: int | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    hints: Sequence[int] = (0,),
    backend: str = "auto",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    vividness: float | None = None,
) -> dict:
    """Evaluate models (generator folders, None = bundled) and the gray baseline on a folder of colour photos.

    `hints`: numbers of colour hints to simulate from the truth (`hint_sim.simulate_point_hints`, seeded by
    the file's name, so every model gets the same points); each count above 0 adds a row "NAME +N hints" for
    every model that takes hints. `vividness`: for colour-class models (others ignore it).

    Returns {"rows": {name: {metric: mean, "images": n, "below_gray": photos with a lower PSNR than gray}},
    "skipped": [...]}; with `out`, writes per_image.csv, summary.json, summary.md, gallery.png and index.html
    there (and hints.png, PSNR against the number of hints, when several counts are asked for). Raises
    ValueError, before any work, for data that is missing or holds no images and for an `out` folder that
    cannot be written.
    """
    counts = sorted(set(hints))
    if not counts or counts[0] < 0:
        raise ValueError(f"hint counts must be 0 or more, got {list(hints)}")
    if not Path(data).exists():
        raise ValueError(f"{data}: no such folder or file")
    files = list_images(data)[:limit]
    if not files:
        raise ValueError(f"{data}: no image files found (looked for {' '.join(IMAGE_EXTENSIONS)})")
    if out is not None:
        _check_writable(Path(out))
    models = [model_name(w) for w in weights]
    colorizers = {
        name: Colorizer.from_pretrained(
            path, device=device, precision=precision, max_pixels=max_pixels, backend=backend
        )
        for name, path in models
    }
    for colorizer in colorizers.values():
        if vividness is not None and colorizer.has_classes:
            colorizer.vividness = colorizer.check_vividness(vividness)
    report = BatchReport()
    per_image: list[dict] = []
    shown: dict[str, list[np.ndarray]] = {}
    picks = set(gallery_picks(len(files)))
    for i, path in enumerate(tqdm(files, unit="img", file=sys.stderr, disable=len(files) < 2)):
        try:
            truth = load_image(path, max_pixels).rgb
        except ImageError as e:
            report.fail(str(path), e.reason)
            continue
        gray = gray_uint8(truth)
        preds = {"gray": gray}
        rel = str(Path(path).relative_to(data)) if Path(data).is_dir() else str(path)
        for name, colorizer in colorizers.items():
            for count in counts if colorizer.takes_hints else [0]:
                points = [simulate_point_hints(truth, count, zlib.crc32(rel.encode()))] if count else None
                row = f"{name} +{count} hints" if count else name
                preds[row] = colorizer.colorize_loaded([LoadedImage(gray)], render_size, hints=points)[0].rgb
        for name, pred in preds.items():
            per_image.append({"file": rel, "model": name, **all_metrics(pred, truth)})
        report.written += 1
        if i in picks:
            shown[str(path)] = [gray, *(preds[name] for name, _ in models), truth]
    rows = {}
    gray_psnr = {r["file"]: r["psnr"] for r in per_image if r["model"] == "gray"}
    for name in dict.fromkeys(r["model"] for r in per_image) or ["gray"]:
        mine = [r for r in per_image if r["model"] == name]
        rows[name] = {m: float(np.mean([r[m] for r in mine])) if mine else float("nan") for m in METRICS}
        rows[name]["images"] = len(mine)
        rows[name]["below_gray"] = sum(r["psnr"] < gray_psnr[r["file"]] for r in mine)
    summary = {
        "rows": rows,
        "data": str(data),
        "render_size": render_size,
        "vividness": vividness,
        "hints": counts,
        "skipped": [{"file": f, "reason": r} for f, r in report.failed],
    }
    if out is not None:
        _write(Path(out), per_image, summary, shown, ["gray", *(n for n, _ in models), "truth"])
    return summary


def _check_writable(out: Path) -> None:
    """Fail now, with a clear message, rather than after the whole evaluation, if `out` cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except OSError as e:
        raise ValueError(f"{out}: cannot write the results there ({e.strerror or e})") from None


def markdown_table(summary: dict) -> str:
    head = (
        "| model | PSNR (dB) | SSIM | CIEDE2000 | colourfulness | colourfulness of truth | AuC | images "
        "| below gray |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in summary["rows"].items():
        lines.append(
            f"| {name} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['ciede2000']:.2f} | {r['colorfulness']:.1f} | "
            f"{r['colorfulness_truth']:.1f} | {r['auc']:.4f} | {r['images']} | {r['below_gray']} |"
        )
    if summary["skipped"]:
        lines.append(
            f"\n{len(summary['skipped'])} file(s) skipped: "
            + "; ".join(f"{s['file']} ({s['reason']})" for s in summary["skipped"])
        )
    return "\n".join(lines) + "\n"


def _thumb(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    size = (max(1, round(w * GALLERY_HEIGHT / h)), GALLERY_HEIGHT)
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def _write(
    out: Path, per_image: list[dict], summary: dict, shown: dict[str, list[np.ndarray]], columns: list[str]
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "per_image.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "model", *METRICS])
        writer.writeheader()
        writer.writerows(per_image)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(markdown_table(summary))
    if len(summary["hints"]) > 1:
        hint_curve(summary, out / "hints.png")
    if not shown:
        return
    rows, cells = [], []
    for n, (path, images) in enumerate(shown.items()):
        thumbs = [_thumb(im) for im in images]
        rows.append(np.concatenate(thumbs, axis=1))
        names = []
        for col, thumb in zip(columns, thumbs, strict=True):
            name = f"gallery/{n:02d}-{col.replace('/', '_')}.jpg"
            save_image(out / name, thumb)
            names.append(name)
        cells.append((Path(path).name, names))
    width = max(r.shape[1] for r in rows)
    grid = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    save_image(out / "gallery.png", np.concatenate(grid, axis=0))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["photo", *columns])
    body = "".join(
        "<tr><td>"
        + html.escape(name)
        + "</td>"
        + "".join(f'<td><img src="{src}"></td>' for src in srcs)
        + "</tr>"
        for name, srcs in cells
    )
    (out / "index.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>autocolor evaluation</title>"
        "<style>body{font-family:sans-serif}td{padding:2px}img{height:192px}</style>"
        f"<h1>autocolor evaluation</h1><p>Data: {html.escape(str(summary['data']))}. Rows: every k-th photo in "
        f"name order.</p>{_html_table(summary)}<table><tr>{head}</tr>{body}</table>\n"
    )


def _html_table(summary: dict) -> str:
    head = "".join(f"<th>{m}</th>" for m in ("model", *METRICS, "images"))
    rows = "".join(
        "<tr><td>"
        + html.escape(name)
        + "</td>"
        + "".join(f"<td>{r[m]:.4g}</td>" for m in METRICS)
        + f"<td>{r['images']}</td></tr>"
        for name, r in summary["rows"].items()
    )
    return f"<table border=1 cellspacing=0>{'<tr>' + head + '</tr>'}{rows}</table>"
