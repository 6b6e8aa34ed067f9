"""`colorize_video`: a video file in, a colour video file out, streamed frame by frame.

The output appears under its final name only when complete (a temporary file in the same folder, then an atomic
rename), so Ctrl-C or a crash never leaves half a video there.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import av
from tqdm import tqdm

from ..atomic import atomic_open
from ..batch import Interrupted
from ..hints import HintLike
from ..reference import Reference
from .frames import colorize_frames
from .media import VideoError, VideoReader, VideoWriter, output_format
from .stabilize import StabilizerConfig

if TYPE_CHECKING:  # the Colorizer calls into this module (colorize_video, colorize_frames)
    from ..pipeline import Colorizer


@dataclass
class VideoResult:
    """What `colorize_video` wrote: frames, seconds taken, and notes (e.g. audio that had to be re-encoded)."""

    path: Path
    frames: int
    seconds: float
    notes: list[str] = field(default_factory=list)


def colorize_video(
    colorizer: Colorizer,
    src: str | os.PathLike,
    dst: str | os.PathLike,
    stabilize: bool = True,
    render_size: int | None = None,
    crf: int = 18,
    preset: str = "medium",
    config: StabilizerConfig | None = None,
    progress: bool = False,
    hints: Sequence[HintLike] = (),
    reference: Reference | None = None,
    stop: threading.Event | None = None,
) -> VideoResult:
    """Colorize the video `src` into `dst` (.mp4, .mkv or .mov; H.264 at quality `crf`, lower is better).

    Keeps the input's size, frame count, timestamps, frame rate, rotation metadata and audio. Raises VideoError
    (an ImageError) with one clear reason for a file that is not a readable video, and ValueError for a `dst`
    that is `src`. `hints` (frame pixels) apply to every frame; `reference` (from `Colorizer.reference`)
    colours every shot (see `colorize_frames`). When `stop` is set (Ctrl-C in a batch) it gives up within a
    frame, leaving nothing behind, and raises batch.Interrupted."""
    if Path(dst).resolve() == Path(src).resolve():
        raise ValueError(f"{dst}: the output would overwrite its input video; choose another output path")
    try:
        return _colorize_video(
            colorizer, src, dst, stabilize, render_size, crf, preset, config, progress, hints, reference, stop
        )
    except VideoError:
        raise
    except av.FFmpegError as e:
        raise VideoError(src, f"cannot be converted ({e})") from None


def _colorize_video(
    colorizer, src, dst, stabilize, render_size, crf, preset, config, progress, hints, reference, stop
) -> VideoResult:
    start = time.perf_counter()
    fmt = output_format(dst)
    with VideoReader(src) as reader, atomic_open(dst, stable=True) as file:
        writer = VideoWriter(file, fmt, reader, crf, preset)
        stamps: deque = deque()

        def frames():
            for rgb, pts in reader.frames(on_audio=writer.audio_packet):
                stamps.append(pts)
                yield rgb

        bar = tqdm(
            total=reader.info.frames or None,
            unit="frame",
            desc=Path(src).name,
            disable=not progress,
            file=sys.stderr,
        )
        try:
            colored = colorize_frames(colorizer, frames(), stabilize, render_size, config, hints, reference)
            for out in colored:
                if stop is not None and stop.is_set():
                    raise Interrupted
                writer.write(out, stamps.popleft())
                bar.update()
            writer.close()
        finally:
            bar.close()
    return VideoResult(Path(dst), writer.frames, time.perf_counter() - start, writer.notes)
