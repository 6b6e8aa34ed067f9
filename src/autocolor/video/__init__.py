"""Video: colorize films frame by frame with temporal stabilisation, keep their timing and sound, and measure
flicker. Needs the `video` extra (PyAV and OpenCV); submodules are imported on first use, so probing a file
(`is_video`) costs nothing more than PyAV."""

from __future__ import annotations

import importlib

_EXPORTS = {
    "VIDEO_EXTENSIONS": "media",
    "VideoError": "media",
    "is_video": "media",
    "VideoResult": "convert",
    "colorize_video": "convert",
    "colorize_frames": "frames",
    "Stabilizer": "stabilize",
    "StabilizerConfig": "stabilize",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'autocolor.video' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
