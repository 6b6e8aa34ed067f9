"""Dataset tools: grayscale copies of a folder of photos, and gray|colour side-by-side pairs (pix2pix A|B).

Gray means the photo's CIE Lab lightness with a = b = 0 (see `color.gray_uint8`): the same input the network
sees when it trains and when it colorizes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from .batch import BatchReport, distinct_outputs, run_batch
from .color import gray_uint8
from .io import ImageError, is_image_path, list_images, load_image, save_image

FORMATS = ("jpg", "png")


def _check_dirs(src: Path, dst: Path) -> None:
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: not a folder")
    if dst.resolve() == src.resolve():
        raise ValueError(
            f"{dst}: the output folder must differ from the input folder (inputs are never overwritten)"
        )


def _plan(src: Path, dst: Path, fmt: str, report: BatchReport) -> list[tuple[Path, Path]]:
    """(input, output) pairs mirroring src's tree under dst with the new extension; name clashes are skipped."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    plan = [
        (path, dst / path.relative_to(src).with_suffix(f".{fmt}")) for path in list_images(src, exclude=dst)
    ]
    return distinct_outputs(plan, report)


def _write_gray(src: str, out: str) -> None:
    image = load_image(src)
    save_image(out, gray_uint8(image.rgb), image.alpha)


def grayscale(
    original: str | os.PathLike, gray_dir: str | os.PathLike, fmt: str = "jpg", workers: int | None = None
) -> BatchReport:
    """Write a gray copy of every image under `original` to the same relative path under `gray_dir`."""
    src, dst = Path(original), Path(gray_dir)
    _check_dirs(src, dst)
    report = BatchReport()
    plan = _plan(src, dst, fmt, report)
    jobs = [(str(a), str(b)) for a, b in plan]
    return run_batch(_write_gray, jobs, [str(a) for a, _ in plan], workers, "grayscale", report)


def _square(rgb: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BICUBIC, reducing_gap=3.0))


def _write_pair(src: str, gray_src: str | None, out: str, size: int) -> None:
    colour = _square(load_image(src).rgb, size)
    gray = gray_uint8(_square(load_image(gray_src).rgb, size) if gray_src else colour)
    save_image(out, np.concatenate([gray, colour], axis=1))


def _find_counterpart(gray_root: Path, rel: Path) -> Path | None:
    for candidate in sorted(gray_root.joinpath(rel.parent).glob(f"{rel.stem}.*")):
        if candidate.is_file() and is_image_path(candidate):
            return candidate
    return None


def combine(
    original: str | os.PathLike,
    combined: str | os.PathLike,
    gray_dir: str | os.PathLike | None = None,
    size: int = 256,
    fmt: str = "jpg",
    workers: int | None = None,
) -> BatchReport:
    """Write one `2*size` x `size` image per photo: gray on the left, colour on the right (pix2pix A|B).

    Without `gray_dir`, the gray half is made from the colour photo; with it, the gray photo at the same
    relative path (any image extension) is used, and photos without one are reported and skipped.
    """
    if size < 8:
        raise ValueError(f"--size must be at least 8, got {size}")
    src, dst = Path(original), Path(combined)
    _check_dirs(src, dst)
    report = BatchReport()
    jobs, names = [], []
    for path, out in _plan(src, dst, fmt, report):
        gray_src = None
        if gray_dir is not None:
            gray_src = _find_counterpart(Path(gray_dir), path.relative_to(src))
            if gray_src is None:
                report.fail(str(path), f"no grayscale counterpart under {gray_dir}")
                continue
        jobs.append((str(path), str(gray_src) if gray_src else None, str(out), size))
        names.append(str(path))
    return run_batch(_write_pair, jobs, names, workers, "combine", report)


__all__ = ["grayscale", "combine", "ImageError", "BatchReport"]
