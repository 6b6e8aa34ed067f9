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
from .color import gray_uint8
from .io import SAVE_FORMATS, ImageError, LoadedImage, list_images, save_image
from .pipeline import Colorizer
from .video.media import OUTPUT_FORMATS, VIDEO_EXTENSIONS, is_video, video_output_path


def resolve_inputs(
    inputs: Sequence[str | os.PathLike], out_dir: Path, report: BatchReport, fmt: str | None = None
) -> list[tuple[Path, Path]]:
    """(input file, output file) pairs: folders are recursed and mirrored, files and globs keep their name."""
    pairs: list[tuple[Path, Path]] = []
    for item in map(str, inputs):
        path = Path(item)
        if path.is_dir():
            found = [
                (p, p.relative_to(path)) for p in list_images(path, exclude=out_dir, also=VIDEO_EXTENSIONS)
            ]
        elif path.is_file():
            found = [(path, Path(path.name))]
        else:
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                report.fail(item, "no such file, folder or matching pattern")
                continue
            found = [(Path(m), Path(Path(m).name)) for m in matches if Path(m).is_file()]
        for src, rel in found:
            if is_video(src):
                pairs.append((src, video_output_path(out_dir / rel)))
                continue
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
    stabilize: bool = True,
    crf: int = 18,
) -> BatchReport:
    """Colorize every input into out_dir; decoding of the next file overlaps the current one. Videos (found by
    probing) become H.264 videos, with `stabilize` and quality `crf` (see `Colorizer.colorize_video`)."""
    out_dir = Path(out_dir)
    report = BatchReport()
    jobs = resolve_inputs(inputs, out_dir, report, fmt)
    dst_of = dict(jobs)

    def load(src: Path) -> LoadedImage | ImageError | None:
        if dst_of[src].suffix in OUTPUT_FORMATS:
            return None  # a video: decoded as it is colorized
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
                if loaded is None:
                    done = colorizer.colorize_video(
                        src, dst, stabilize, render_size=render_size, crf=crf, progress=progress
                    )
                    for note in done.notes:
                        tqdm.write(f"note: {src}: {note}", file=sys.stderr)
                    report.written += 1
                    bar.update()
                    continue
                out = colorizer.colorize_loaded([loaded], render_size)[0]
                save_image(dst, out.rgb, out.alpha)
                if side_by_side:
                    pair = np.concatenate([gray_uint8(loaded.rgb), out.rgb], axis=1)
                    save_image(side_by_side_path(dst), pair)
                report.written += 1
            except ImageError as e:
                report.fail(str(src), e.reason)
            except (OSError, ValueError, RuntimeError) as e:  # one bad file never stops the batch
                report.fail(str(src), f"{type(e).__name__}: {e}")
            bar.update()
    bar.close()
    return report
