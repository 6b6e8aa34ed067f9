"""Video files through PyAV (FFmpeg's libraries): probing, streaming decode, and writing H.264 that keeps the
input's frame timestamps, frame rate, rotation metadata and audio.

Decoding is pull-based: `VideoReader.frames()` yields RGB frames while handing every audio packet met on the way
to a callback, so the writer can copy audio as it goes and nothing is buffered beyond a frame or two.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..io import IMAGE_EXTENSIONS, ImageError
from ..messages import MissingExtra

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts")
OUTPUT_FORMATS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov"}
_IMAGE_DEMUXERS = ("image2", "_pipe", "gif", "apng", "webp")  # FFmpeg also opens photos: those are not videos


class VideoError(ImageError):
    """A file that cannot be used as a video; `str()` is 'PATH: reason' (an ImageError, so batches that skip
    bad photos skip bad videos the same way)."""


def _av():
    try:
        import av
    except ImportError as e:
        raise MissingExtra("video", "video") from e
    return av


@dataclass
class VideoInfo:
    """width, height: coded frame size; fps: average frame rate; frames: frame count (from the header, or
    estimated from the duration; 0 if unknown); duration: seconds; audio: the audio codec's name or None."""

    width: int
    height: int
    fps: Fraction
    frames: int
    duration: float
    audio: str | None


def is_video(path: str | os.PathLike) -> bool:
    """True for files FFmpeg opens with a video stream that are not still images, and for any file with a
    video extension (so that a corrupt .mp4 is reported as a bad video, not as a bad photo)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return True
    if suffix in IMAGE_EXTENSIONS or not path.is_file():
        return False
    try:
        import av
    except ImportError:
        return False
    try:
        with av.open(str(path)) as c:
            name = c.format.name
            return bool(c.streams.video) and not any(k in name for k in _IMAGE_DEMUXERS)
    except av.FFmpegError:
        return False


class VideoReader:
    """Open a video for streaming decode; raises VideoError for files that cannot be read or hold no video."""

    def __init__(self, path: str | os.PathLike):
        av = _av()
        self.path = str(path)
        try:
            self.container = av.open(self.path)
        except av.FFmpegError as e:
            raise VideoError(path, f"not a readable video ({_reason(e)})") from None
        if not self.container.streams.video:
            self.container.close()
            raise VideoError(path, "has no video stream")
        self.video = self.container.streams.video[0]
        self.video.thread_type = "AUTO"
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        self.info = self._probe()
        self.rotation = 0  # degrees counter-clockwise from the display matrix, known once a frame is decoded

    def _probe(self) -> VideoInfo:
        v, c = self.video, self.container
        fps = v.average_rate or v.guessed_rate or Fraction(25)
        if v.duration is not None and v.time_base is not None:
            duration = float(v.duration * v.time_base)
        else:
            duration = (c.duration or 0) / 1_000_000
        frames = v.frames or round(duration * fps)
        return VideoInfo(v.width, v.height, Fraction(fps), frames, duration, _codec(self.audio))

    def frames(self, on_audio: Callable | None = None) -> Iterator[tuple[np.ndarray, int | None]]:
        """Yield (rgb (H, W, 3) uint8, pts in the video stream's time_base) in display order, passing each
        audio packet to `on_audio` as the demuxer meets it. Raises VideoError when decoding fails or the file
        ends well before its header says (a truncated file)."""
        av = _av()
        streams = [self.video] + ([self.audio] if self.audio is not None and on_audio else [])
        decoded = 0
        try:
            for packet in self.container.demux(*streams):
                if packet.stream is not self.video:
                    if packet.dts is not None:
                        on_audio(packet)
                    continue
                for frame in packet.decode():
                    if decoded == 0:
                        self.rotation = int(round(frame.rotation or 0))
                    decoded += 1
                    yield frame.to_ndarray(format="rgb24"), frame.pts
        except av.FFmpegError as e:
            raise VideoError(self.path, f"cannot be decoded after frame {decoded} ({_reason(e)})") from None
        expected = self.info.frames
        if expected and decoded < expected * 0.98 - 1:
            raise VideoError(self.path, f"truncated or corrupt: decoded {decoded} of {expected} frames")
        if decoded == 0:
            raise VideoError(self.path, "has no video frames")

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _codec(stream) -> str | None:
    return stream.codec_context.name if stream is not None else None


def _reason(e: Exception) -> str:
    return getattr(e, "strerror", None) or str(e) or type(e).__name__


def video_output_path(dst: Path) -> Path:
    """Where a batch writes the colour version of a video: .mkv and .mov keep their container, others -> .mp4."""
    return dst if dst.suffix.lower() in OUTPUT_FORMATS else dst.with_suffix(".mp4")


def output_format(dst: str | os.PathLike) -> str:
    """FFmpeg's muxer name for an output path; only containers that take H.264 are offered."""
    suffix = Path(dst).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise VideoError(dst, f"cannot write '{suffix}' videos; use one of {', '.join(OUTPUT_FORMATS)}")
    return OUTPUT_FORMATS[suffix]


class VideoWriter:
    """H.264 (yuv420p; yuv444p where a side is odd) into an open binary file, with the reader's frame rate,
    timestamps and rotation, and its audio copied packet for packet where the container takes the codec
    (re-encoded to AAC otherwise, with a line in `notes`). Streams are set up at the first frame, once the
    rotation is known; audio met before it waits in a short queue."""

    def __init__(self, file, fmt: str, reader: VideoReader, crf: int = 18, preset: str = "medium"):
        self.out = _av().open(file, "w", format=fmt)
        self.fmt, self.reader, self.crf, self.preset = fmt, reader, crf, preset
        self.video = self.audio = None
        self.copy_audio = False
        self.pending: list = []
        self.notes: list[str] = []
        self.frames = 0

    def _start(self) -> None:
        r, info = self.reader, self.reader.info
        v = self.out.add_stream("libx264", rate=info.fps)
        v.width, v.height = info.width, info.height
        v.pix_fmt = "yuv420p" if info.width % 2 == 0 and info.height % 2 == 0 else "yuv444p"
        v.codec_context.time_base = r.video.time_base or Fraction(1, 1) / info.fps
        v.options = {"crf": str(self.crf), "preset": self.preset}
        if r.rotation:
            v.set_display_rotation(r.rotation)
        if r.audio is not None:
            codec = r.audio.codec_context.name
            if codec in self.out.supported_codecs:
                self.audio, self.copy_audio = self.out.add_stream_from_template(r.audio), True
            else:
                self.audio = self.out.add_stream("aac", rate=r.audio.codec_context.sample_rate or 48000)
                channels = r.audio.codec_context.channels
                self.audio.layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
                self.notes.append(f"audio re-encoded to AAC ({codec} cannot be copied into {self.fmt})")
        self.video = v
        for packet in self.pending:
            self.audio_packet(packet)
        self.pending = []

    def write(self, rgb: np.ndarray, pts: int | None) -> None:
        """One (H, W, 3) uint8 frame, with its pts in the input video stream's time_base (None: by count)."""
        av = _av()
        if self.video is None:
            self._start()
        tb = self.video.codec_context.time_base
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = pts if pts is not None else round(self.frames / self.reader.info.fps / tb)
        frame.time_base = tb
        for packet in self.video.encode(frame):
            self.out.mux(packet)
        self.frames += 1

    def audio_packet(self, packet) -> None:
        if self.audio is None:
            if self.video is None:
                self.pending.append(packet)
            return
        if self.copy_audio:
            packet.stream = self.audio
            self.out.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None
            for out in self.audio.encode(frame):
                self.out.mux(out)

    def close(self) -> None:
        """Flush the encoders and write the trailer."""
        if self.video is None:
            raise VideoError(self.reader.path, "has no video frames")
        for stream in (self.video, None if self.copy_audio else self.audio):
            if stream is not None:
                for packet in stream.encode(None):
                    self.out.mux(packet)
        self.out.close()
