"""Make every figure of docs/how-it-works.md from real runs, with one command:

    PYTHONPATH=src .venv/bin/python scripts/primer_figures.py --photos ../shared/photos/train

Trains three small models with configs/learn.toml on the photos (every 10th photo is held out and used for
validation and the pictures; the test set is not touched): pix2pix (L1 + GAN), L1 only and GAN only, each a
few CPU minutes (on a crowded machine, OMP_NUM_THREADS=1 can be several times faster). Then draws into docs/how-it-works/: Lab channels, the PatchGAN's receptive field on a photo,
samples over training steps, training curves, the three objectives side by side, and numbers.md (final
validation numbers next to the gray baseline). Runs go to runs/primer/ (reused when already finished).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from autocolor.color import gray_uint8, model_to_rgb, rgb_to_lab, tensor_to_uint8, uint8_to_tensor
from autocolor.config import Config, DiscriminatorConfig
from autocolor.io import list_images, load_image
from autocolor.metrics import colorfulness, psnr
from autocolor.models import PatchGAN
from autocolor.report import plot_curves, read_metrics, sample_grids, series
from autocolor.train import train
from autocolor.validation import validation_photos

ROOT = Path(__file__).resolve().parents[1]
RUNS = {  # name -> (label, overrides of configs/learn.toml)
    "pix2pix": ("L1 + GAN (pix2pix)", []),
    "l1-only": ("L1 only", ["train.gan_weight=0.0"]),
    "gan-only": ("GAN only", ["train.lambda_l1=0.0"]),
}


def split(photos: Path, work: Path) -> tuple[Path, Path]:
    """Symlink every 10th photo into work/heldout, the rest into work/train."""
    tr, ho = work / "train", work / "heldout"
    if not tr.is_dir():
        for d in (tr, ho):
            d.mkdir(parents=True, exist_ok=True)
        for i, p in enumerate(list_images(photos)):
            (ho if i % 10 == 5 else tr).joinpath(f"{i:04d}-{p.name}").symlink_to(p.resolve())
    return tr, ho


def run(name: str, overrides: list[str], steps: int, tr: Path, ho: Path, work: Path) -> Path:
    out = work / name
    cfg = Config.load(
        ROOT / "configs" / "learn.toml",
        [f"train.steps={steps}", f"train.val_every={max(1, steps // 8)}", *overrides],
    )
    if (out / "generator" / "model.safetensors").is_file() and json.loads(
        (out / "config.json").read_text()
    ) == cfg.to_dict():
        print(f"{name}: already trained in {out}", file=sys.stderr)
        return out
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    train(cfg, tr, out, val=ho)
    print(f"{name}: {steps} steps in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return out


def grid_cells(path: Path, size: int) -> list[list[np.ndarray]]:
    """A samples/ grid (rows of gray | output | truth, each size x size) -> [[gray, out, truth], ...]."""
    g = np.asarray(Image.open(path).convert("RGB"))
    return [
        [g[r : r + size, c * size : (c + 1) * size] for c in range(3)] for r in range(0, g.shape[0], size)
    ]


def image_table(rows: list[list[np.ndarray]], titles: list[str], path: Path, scale: float = 1.2) -> None:
    n_r, n_c = len(rows), len(rows[0])
    fig = Figure(figsize=(scale * n_c, scale * n_r + 0.3))
    axes = fig.subplots(n_r, n_c, squeeze=False)
    for r, row in enumerate(rows):
        for c, im in enumerate(row):
            ax = axes[r][c]
            ax.imshow(im)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(titles[c], fontsize=7)
    fig.subplots_adjust(
        left=0.01, right=0.99, bottom=0.01, top=1 - 0.3 / (scale * n_r + 0.3), wspace=0.04, hspace=0.04
    )
    fig.savefig(path, dpi=110, pil_kwargs={"quality": 88} if path.suffix == ".jpg" else {})


def lab_figure(photo: Path, out: Path) -> None:
    rgb = np.asarray(Image.fromarray(load_image(photo).rgb).resize((256, 192), Image.Resampling.LANCZOS))
    with torch.no_grad():
        lab = rgb_to_lab(uint8_to_tensor(rgb))
        L, a, b = lab[:, :1], lab[:, 1:2], lab[:, 2:]
        z, mid = torch.zeros_like(L), torch.full_like(L, 65.0)
        to = lambda x: tensor_to_uint8(model_to_rgb(x[:, :1] / 50 - 1, x[:, 1:] / 110))[0]  # noqa: E731
        panels = [
            rgb,
            to(torch.cat([L, z, z], 1)),
            to(torch.cat([mid, a, z], 1)),
            to(torch.cat([mid, z, b], 1)),
        ]
    titles = ["photo", "L (what the network sees)", "a (green - red), at L=65", "b (blue - yellow), at L=65"]
    image_table([panels], titles, out, scale=2.2)


def receptive_field_figure(photo: Path, out: Path) -> int:
    """The default 70x70 PatchGAN on a 256x256 photo: output map size, and one logit's field drawn."""
    d = PatchGAN(DiscriminatorConfig(norm="none")).eval()
    side = d.receptive_field()
    rgb = np.asarray(Image.fromarray(load_image(photo).rgb).resize((256, 256), Image.Resampling.LANCZOS))
    L = torch.zeros(1, 1, 256, 256, requires_grad=True)
    logits = d(L, torch.zeros(1, 2, 256, 256))
    h, w = logits.shape[-2:]
    im = Image.fromarray(rgb).resize((512, 512), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(im)
    colours = [(255, 40, 40), (40, 220, 40), (60, 120, 255)]
    for (i, j), colour in zip([(8, 8), (15, 15), (22, 20)], colours, strict=True):
        L.grad = None
        d(L, torch.zeros(1, 2, 256, 256))[0, 0, i, j].backward()
        nz = L.grad[0, 0].abs().nonzero()
        (y0, x0), (y1, x1) = nz.min(0).values.tolist(), nz.max(0).values.tolist()
        assert (y1 - y0 + 1, x1 - x0 + 1) == (side, side), "layer arithmetic and gradient disagree"
        draw.rectangle([2 * x0, 2 * y0, 2 * x1 + 1, 2 * y1 + 1], outline=colour, width=3)
    draw.rectangle([0, 0, 511, 28], fill=(0, 0, 0))
    draw.text(
        (6, 8),
        f"256x256 input -> {h}x{w} logits; each logit sees {side}x{side} px (3 shown)",
        fill=(255, 255, 255),
    )
    im.save(out, quality=88)
    return side


def gray_baseline(ho: Path, limit: int) -> dict[str, float]:
    """PSNR of the gray input itself (ab = 0) on the photos validation uses, and their colourfulness."""
    ps, cf = [], []
    for photo in validation_photos(ho, limit=limit):
        rgb = photo.load()
        ps.append(psnr(gray_uint8(rgb), rgb))
        cf.append(colorfulness(rgb))
    return {"psnr": float(np.mean(ps)), "colorfulness_truth": float(np.mean(cf))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", required=True, help="folder of colour photos, e.g. ../shared/photos/train")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--work", default=str(ROOT / "runs" / "primer"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "how-it-works"))
    args = ap.parse_args()
    work, out = Path(args.work), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tr, ho = split(Path(args.photos), work)
    runs = {name: run(name, ov, args.steps, tr, ho, work) for name, (_, ov) in RUNS.items()}
    cfg = Config.load(ROOT / "configs" / "learn.toml")
    size = cfg.generator.render_size
    photos = sorted(ho.iterdir())

    lab_figure(photos[3], out / "lab-channels.jpg")
    side = receptive_field_figure(photos[7], out / "receptive-field.jpg")

    # samples over training steps (the pix2pix run, first three held-out crops)
    grids = sample_grids(runs["pix2pix"])
    picks = [grids[i] for i in sorted({round(k * (len(grids) - 1) / 4) for k in range(5)})]
    cells = {step: grid_cells(p, size) for step, p in picks}
    rows = [
        [cells[picks[0][0]][r][0], *(cells[s][r][1] for s, _ in picks), cells[picks[0][0]][r][2]]
        for r in range(3)
    ]
    image_table(
        rows, ["gray input", *(f"step {s}" for s, _ in picks), "real photo"], out / "samples-over-steps.jpg"
    )

    plot_curves(read_metrics(runs["pix2pix"]), out / "curves.png", title="configs/learn.toml, L1 + GAN")

    # the three objectives side by side, at the last step
    finals = {name: grid_cells(sample_grids(p)[-1][1], size) for name, p in runs.items()}
    rows = [
        [finals["pix2pix"][r][0], *(finals[n][r][1] for n in RUNS), finals["pix2pix"][r][2]] for r in range(4)
    ]
    image_table(
        rows, ["gray input", *(label for label, _ in RUNS.values()), "real photo"], out / "objectives.jpg"
    )

    # validation curves of the three runs, with the gray baseline
    base = gray_baseline(ho, cfg.train.val_limit)
    fig = Figure(figsize=(9, 3))
    ax1, ax2 = fig.subplots(1, 2)
    for name, p in runs.items():
        recs = read_metrics(p)
        ax1.plot(*series(recs, "val", "psnr"), marker="o", ms=3, label=RUNS[name][0])
        ax2.plot(*series(recs, "val", "colorfulness"), marker="o", ms=3, label=RUNS[name][0])
    ax1.axhline(base["psnr"], color="gray", ls="--", label="gray baseline (ab = 0)")
    ax2.axhline(base["colorfulness_truth"], color="k", ls=":", label="real photos")
    ax2.axhline(0, color="gray", ls="--", label="gray baseline")
    for ax, t in ((ax1, "validation PSNR (dB)"), (ax2, "validation colourfulness")):
        ax.set_title(t, fontsize=10)
        ax.set_xlabel("step", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "objectives-curves.png", dpi=90)

    lines = [
        f"Validation: the first {cfg.train.val_limit} held-out photos, whole, colorized at render size {size}; "
        f"{args.steps} steps of batch {cfg.train.batch_size} each.",
        "",
        "| objective | PSNR (dB) | colourfulness | L1 (ab) |",
        "|---|---:|---:|---:|",
        f"| gray baseline (ab = 0) | {base['psnr']:.2f} | 0.0 | - |",
    ]
    for name, p in runs.items():
        last = [r for r in read_metrics(p) if r.get("kind") == "val"][-1]
        lines.append(
            f"| {RUNS[name][0]} | {last['psnr']:.2f} | {last['colorfulness']:.1f} | {last['l1']:.4f} |"
        )
    lines.append(f"| real photos | - | {base['colorfulness_truth']:.1f} | 0 |")
    lines.append(f"\nPatchGAN (n_layers = 3) receptive field: {side} x {side} px.")
    (out / "numbers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"figures in {out}/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
