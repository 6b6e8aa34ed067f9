"""Dataset tools: grayscale copies of a folder of photos, and gray|colour side-by-side pairs (pix2pix A|B).

Gray means the photo's CIE Lab lightness with a = b = 0 (see `color.gray_uint8`): the same input the network
sees when it trains and when it colorizes. Both tools share colorize's batch machinery: streaming over the
tree, worker processes, finished outputs kept on a re-run (unless `overwrite`), one line per failure.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from . import scan
from .batch import BatchReport, Manifest, run_batch
from .color import gray_uint8
from .colorspace import linear_to_srgb, srgb_to_fy
from .composer import Compose
from .io import ImageError, is_image_path, keeps_alpha, load_image, save_image
from .prepared import strips
from .scan import Job

FORMATS = ("jpg", "png")
_STRIP_ROWS_PIXELS = 1 << 20


def _check_dirs(src: Path, dst: Path) -> None:
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: not a folder")
    scan.check_output([src], dst)


def gray_plane(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 photo -> (H, W) uint8: `gray_uint8`'s value (within 1 level), computed in strips of rows
    by the colorizer's own colour path (composer.py) with ab = 0, so a photo of N pixels needs a few N bytes on
    top of its own 3 N (the tensor path needs ~130 N)."""
    height, width = rgb.shape[:2]
    out = np.empty((height, width), np.uint8)
    flat = torch.zeros(4, 1, width)  # ab = 0 everywhere
    compose = Compose()
    with torch.no_grad():
        for rows in strips(height, width, _STRIP_ROWS_PIXELS):
            fy = torch.from_numpy(srgb_to_fy(rgb[rows]))
            linear_to_srgb(compose(fy, flat, torch.tensor(0), torch.tensor(1))[..., 1].numpy(), out=out[rows])
    return out


def _write_gray(job: Job) -> list[str]:
    image = load_image(job.src)
    notes = list(image.notes)
    if image.alpha is not None and not keeps_alpha(job.dst):
        notes.append(f"transparency dropped: {job.dst.suffix} has no alpha channel (--format png keeps it)")
    gray, alpha = gray_plane(image.rgb), image.alpha
    del image
    save_image(job.dst, gray, alpha)
    return notes


def _run(fn, src: Path, dst: Path, fmt: str, desc: str, workers, overwrite, manifest) -> BatchReport:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    _check_dirs(src, dst)

    def plan():
        return scan.plan([src], dst, lambda _, rel: dst / Path(rel).with_suffix(f".{fmt}"))

    record = Manifest(manifest) if manifest is not None else None
    try:
        return run_batch(
            fn,
            plan(),
            workers=workers or os.cpu_count() or 1,
            processes=True,
            overwrite=overwrite,
            manifest=record,
            counter=lambda: scan.count(plan()),
            desc=desc,
        )
    finally:
        if record is not None:
            record.close()


def grayscale(
    original: str | os.PathLike,
    gray_dir: str | os.PathLike,
    fmt: str = "jpg",
    workers: int | None = None,
    overwrite: bool = False,
    manifest: str | os.PathLike | None = None,
) -> BatchReport:
    """Write a gray copy of every image under `original` to the same relative path under `gray_dir`; gray
    copies that already exist are kept unless `overwrite`; transparency is kept in PNG (and said to be
    dropped in JPEG)."""
    return _run(_write_gray, Path(original), Path(gray_dir), fmt, "grayscale", workers, overwrite, manifest)


def _square(rgb: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BICUBIC, reducing_gap=3.0))


def _find_counterpart(gray_root: Path, rel: Path) -> Path | None:
    for candidate in sorted(gray_root.joinpath(rel.parent).glob(f"{rel.stem}.*")):
        if candidate.is_file() and is_image_path(candidate):
            return candidate
    return None


def _write_pair(job: Job, size: int, gray_root: str | None) -> list[str]:
    image = load_image(job.src)
    notes = list(image.notes)
    if image.alpha is not None:
        notes.append("transparency dropped: A|B training pairs have no alpha channel")
    colour = _square(image.rgb, size)
    del image
    if gray_root is not None:
        gray_src = _find_counterpart(Path(gray_root), Path(job.rel))
        if gray_src is None:
            raise ImageError(job.src, f"no grayscale counterpart under {gray_root}", "missing")
        gray = gray_uint8(_square(load_image(gray_src).rgb, size))
    else:
        gray = gray_uint8(colour)
    save_image(job.dst, np.concatenate([gray, colour], axis=1))
    return notes


def combine(
    original: str | os.PathLike,
    combined: str | os.PathLike,
    gray_dir: str | os.PathLike | None = None,
    size: int = 256,
    fmt: str = "jpg",
    workers: int | None = None,
    overwrite: bool = False,
    manifest: str | os.PathLike | None = None,
) -> BatchReport:
    """Write one `2*size` x `size` image per photo: gray on the left, colour on the right (pix2pix A|B).

    Without `gray_dir`, the gray half is made from the colour photo; with it, the gray photo at the same
    relative path (any image extension) is used, and photos without one are reported and skipped.
    """
    if size < 8:
        raise ValueError(f"--size must be at least 8, got {size}")
    fn = functools.partial(_write_pair, size=size, gray_root=str(gray_dir) if gray_dir is not None else None)
    return _run(fn, Path(original), Path(combined), fmt, "combine", workers, overwrite, manifest)


__all__ = ["grayscale", "combine", "gray_plane", "ImageError", "BatchReport"]
