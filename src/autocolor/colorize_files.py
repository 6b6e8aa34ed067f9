"""Colorizing many files: inputs (files, folders, globs) mirrored under an output folder, never over an input,
resumable (finished outputs are kept), recorded in a manifest, split across machines with `Shard`.
The `autocolor colorize` command is a thin layer over `colorize_files`; `colorize_job` is the work for one
file, which any other kind of input (e.g. a video) can sit beside in the same batch."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import scan
from .batch import BatchReport, Interrupted, Manifest, run_batch
from .hints import HintLike
from .io import SAVE_FORMATS, keeps_alpha, save_image
from .pipeline import Colorizer
from .reference import Reference, enough
from .scan import Job, Shard
from .video.media import OUTPUT_FORMATS, VIDEO_EXTENSIONS, is_video, video_output_path


def side_by_side_path(dst: Path) -> Path:
    return dst.with_name(f"{dst.stem}.side-by-side{dst.suffix}")


def output_path(out_dir: Path, rel: str, fmt: str | None = None) -> Path:
    """Where the input at `rel` (relative to its input folder) goes: same relative path under `out_dir`, with
    the `fmt` extension, or the input's own when it is one we write (else .png)."""
    rel_path = Path(rel)
    suffix = f".{fmt}" if fmt else (rel_path.suffix if rel_path.suffix.lower() in SAVE_FORMATS else ".png")
    return out_dir / rel_path.with_suffix(suffix)


def colorize_job(
    colorizer: Colorizer,
    job: Job,
    render_size: int | None = None,
    side_by_side: bool = False,
    hints: Sequence[HintLike] | None = None,
    reference: Reference | None = None,
) -> list[str]:
    """Colorize one image file into `job.dst` (and its side-by-side first, so that `job.dst` existing means
    both are done), with colour `hints` and the colours of `reference` if given. Returns notes for the user;
    raises ImageError for an unusable input and ValueError for hints that do not fit it."""
    loaded = colorizer.load(job.src)
    out = colorizer.colorize_loaded([loaded], render_size, hints=[hints or []], reference=reference)[0]
    notes = list(loaded.notes)
    if out.reference_confidence is not None:
        notes.append(reference_note(out.reference_confidence))
    if out.alpha is not None and not keeps_alpha(job.dst):
        notes.append(f"transparency dropped: {job.dst.suffix} has no alpha channel (--format png keeps it)")
    if side_by_side:
        save_image(side_by_side_path(job.dst), np.concatenate([colorizer.gray(loaded.rgb), out.rgb], axis=1))
    del loaded
    save_image(job.dst, out.rgb, out.alpha)
    return notes


def media_job(
    colorizer: Colorizer,
    job: Job,
    render_size: int | None = None,
    side_by_side: bool = False,
    stabilize: bool = True,
    crf: int = 18,
    hints: Sequence[HintLike] | None = None,
    reference: Reference | None = None,
    stop: threading.Event | None = None,
) -> list[str]:
    """One file of a batch: a video (its output is a video container; `hints` on every frame) or a photo
    (`colorize_job`), each with `hints` and `reference` if given; none once `stop` is set (Ctrl-C)."""
    if stop is not None and stop.is_set():
        raise Interrupted
    if job.dst.suffix.lower() in OUTPUT_FORMATS:
        done = colorizer.colorize_video(
            job.src,
            job.dst,
            stabilize,
            render_size=render_size,
            crf=crf,
            hints=hints or (),
            reference=reference,
            stop=stop,
        )
        return done.notes
    return colorize_job(colorizer, job, render_size, side_by_side, hints, reference)


def reference_note(confidence: float) -> str:
    """What a photo took from the reference, for the user."""
    if enough(confidence):
        return f"reference: {confidence:.0%} of the photo matched it and took its colours"
    return f"reference not used: only {confidence:.0%} of the photo matched it (automatic colour)"


def default_manifest(out_dir: Path, shard: Shard = scan.WHOLE) -> Path:
    """manifest.jsonl in the output folder; one per shard (manifest.shard-K-of-N.jsonl) when sharded, so
    parts running at once on a shared file system never write the same file."""
    name = "manifest.jsonl" if shard.count == 1 else f"manifest.shard-{shard.index}-of-{shard.count}.jsonl"
    return out_dir / name


def colorize_files(
    colorizer: Colorizer,
    inputs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    render_size: int | None = None,
    side_by_side: bool = False,
    fmt: str | None = None,
    progress: bool = True,
    overwrite: bool = False,
    shard: Shard | None = None,
    manifest: str | os.PathLike | None = None,
    workers: int = 2,
    stabilize: bool = True,
    crf: int = 18,
    hints: Sequence[HintLike] | None = None,
    reference: Reference | None = None,
) -> BatchReport:
    """Colorize every input into out_dir, `workers` files at a time (two overlap one's decoding with the
    other's network pass); outputs that already exist are kept unless `overwrite`. Each result is appended to
    `manifest` (default: `default_manifest(out_dir, shard)`). Raises ValueError for an output folder that is
    or contains an input folder. Videos (found by probing) become H.264 videos, with `stabilize` and quality
    `crf` (see `Colorizer.colorize_video`). `hints` (colour points, see autocolor.hints) apply to every photo
    and frame; `reference` (from `Colorizer.reference`) colours every photo and shot it matches."""
    out_dir, shard = Path(out_dir), shard or scan.WHOLE
    scan.check_output([Path(i) for i in inputs if Path(i).is_dir()], out_dir)
    if fmt is not None and f".{fmt}" not in SAVE_FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose one of {', '.join(sorted(SAVE_FORMATS))}")

    def output_for(src: Path, rel: str) -> Path:
        return video_output_path(out_dir / rel) if is_video(src) else output_path(out_dir, rel, fmt)

    def plan():
        return scan.plan(inputs, out_dir, output_for, shard, also=VIDEO_EXTENSIONS)

    record = Manifest(manifest or default_manifest(out_dir, shard))
    stop = threading.Event()
    try:
        return run_batch(
            functools.partial(
                media_job,
                colorizer,
                render_size=render_size,
                side_by_side=side_by_side,
                stabilize=stabilize,
                crf=crf,
                hints=hints,
                reference=reference,
                stop=stop,
            ),
            plan(),
            workers=workers,
            overwrite=overwrite,
            manifest=record,
            counter=lambda: scan.count(plan()),
            desc="colorize",
            progress=progress,
            stop=stop,
        )
    finally:
        record.close()
