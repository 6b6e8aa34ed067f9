"""Colorizing many files: resolve inputs (files, folders, globs), mirror names under an output folder,
never overwrite an input, one line per failure. The `autocolor colorize` command is a thin layer over this."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .batch import BatchReport, distinct_outputs
from .io import SAVE_FORMATS, ImageError, LoadedImage, list_images, save_image
from .pipeline import Colorizer


def resolve_inputs(
    inputs: Sequence[str | os.PathLike], out_dir: Path, report: BatchReport, fmt: str | None = None
) -> list[tuple[Path, Path]]:
    """(input file, output file) pairs: folders are recursed and mirrored, files and globs keep their name."""
    pairs: list[tuple[Path, Path]] = []
    for item in map(str, inputs):
        path = Path(item)
        if path.is_dir():
            found = [(p, p.relative_to(path)) for p in list_images(path, exclude=out_dir)]
        elif path.is_file():
            found = [(path, Path(path.name))]
        else:
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                report.fail(item, "no such file, folder or matching pattern")
                continue
            found = [(Path(m), Path(Path(m).name)) for m in matches if Path(m).is_file()]
        for src, rel in found:
            suffix = f".{fmt}" if fmt else (src.suffix if src.suffix.lower() in SAVE_FORMATS else ".png")
            pairs.append((src, out_dir / rel.with_suffix(suffix)))
    return distinct_outputs(pairs, report)


def side_by_side_path(dst: Path) -> Path:
    return dst.with_name(f"{dst.stem}.side-by-side{dst.suffix}")


def colorize_files(
    colorizer: Colorizer,
    inputs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    render_size: int | None = None,
    side_by_side: bool = False,
    fmt: str | None = None,
    progress: bool = True,
) -> BatchReport:
    """Colorize every input into out_dir; decoding of the next file overlaps the current one."""
    out_dir = Path(out_dir)
    report = BatchReport()
    jobs = resolve_inputs(inputs, out_dir, report, fmt)

    def load(src: Path) -> LoadedImage | ImageError:
        try:
            return colorizer.load(src)
        except ImageError as e:
            return e

    bar = tqdm(total=len(jobs), unit="img", disable=not progress or len(jobs) < 2, file=sys.stderr)
    with ThreadPoolExecutor(1) as reader:
        pending = [reader.submit(load, src) for src, _ in jobs[:2]]
        for i, (src, dst) in enumerate(jobs):
            loaded = pending[i].result()
            if i + 2 < len(jobs):
                pending.append(reader.submit(load, jobs[i + 2][0]))
            pending[i] = None
            try:
                if isinstance(loaded, ImageError):
                    raise loaded
                out = colorizer.colorize_loaded([loaded], render_size)[0]
                save_image(dst, out.rgb, out.alpha)
                if side_by_side:
                    pair = np.concatenate([colorizer.gray(loaded.rgb), out.rgb], axis=1)
                    save_image(side_by_side_path(dst), pair)
                report.written += 1
            except ImageError as e:
                report.fail(str(src), e.reason)
            except (OSError, ValueError, RuntimeError) as e:  # one bad file never stops the batch
                report.fail(str(src), f"{type(e).__name__}: {e}")
            bar.update()
    bar.close()
    return report
