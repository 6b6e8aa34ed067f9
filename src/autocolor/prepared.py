"""A photo between the Colorizer's stages (`prepare` -> `predict_ab` -> `compose`), its lightness at full and
render size, and the strips of rows that full-resolution work is cut into, run on every core (numpy's and
the backends' numeric work releases the GIL)."""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .colorspace import gray_fy, srgb_to_fy
from .hints import Hint
from .io import shared_plane
from .reference import Match, Reference

STRIP_PIXELS = 1 << 16  # full-resolution work is done this many pixels at a time, strips on every core


@dataclass
class Prepared:
    """A photo ready for the network: fy = (L + 16) / 116 at full resolution (H, W) float32 and at render size
    (h, w) (long side = render size), plus the input's alpha and path. A gray photo keeps its gray levels
    (`plane`, uint8) and their lightness table (`lut`) instead of `fy` (None), a quarter of the memory:
    `fy_rows` gives the lightness of any rows either way."""

    fy: np.ndarray | None
    small: np.ndarray
    alpha: np.ndarray | None = None
    path: str | None = None
    hints: list[Hint] = field(default_factory=list)  # checked colour hints, in full-resolution pixels
    reference: Reference | None = None  # a colour photo to take colours from (see autocolor.reference)
    match: Match | None = None  # what the photo took from `reference`, set by `Colorizer.predict_ab`
    plane: np.ndarray | None = None
    lut: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of the photo."""
        return self.fy.shape if self.fy is not None else self.plane.shape

    def fy_rows(self, rows: slice) -> np.ndarray:
        """fy of the photo's `rows`, (r, W) float32."""
        return self.fy[rows] if self.fy is not None else np.take(self.lut, self.plane[rows], mode="wrap")


def lightness(
    rgb: np.ndarray, render: tuple[int, int] | None = None, keep: bool = True
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """fy = (L + 16) / 116 of an (H, W, 3) uint8 photo (None unless `keep`) and, for a `render` size (w, h), fy
    resized to it exactly as Pillow's resize(BILINEAR, reducing_gap=2) resizes the whole fy: strip by strip on
    every core, each strip box-reduced as soon as it is made, so the whole fy need not be kept (a gray photo's
    levels stand in for it). Gray strips are a lookup of `colorspace.gray_fy`."""
    H, W = rgb.shape[:2]
    known_gray = shared_plane(rgb) is not None
    fx, fy_ = (1, 1) if render is None else _reduce_factors((W, H), render)
    keep = keep or (fx, fy_) == (1, 1)  # no reduction: the plain resize needs the whole fy
    fy = np.empty((H, W), dtype=np.float32) if keep else None
    reduced = np.empty((-(-H // fy_), -(-W // fx)), np.float32) if (fx, fy_) != (1, 1) else None

    def strip(rows: slice) -> None:
        block = rgb[rows]
        r = block[..., 0]
        if known_gray or (np.array_equal(r, block[..., 1]) and np.array_equal(r, block[..., 2])):
            part = np.take(gray_fy(), r, out=None if fy is None else fy[rows], mode="wrap")
        else:
            part = srgb_to_fy(block)
            if fy is not None:
                fy[rows] = part
        if reduced is not None:
            out = reduced[rows.start // fy_ : -(-rows.stop // fy_)]
            out[...] = np.asarray(Image.fromarray(part, "F").reduce((fx, fy_)))

    run_strips(strip, H, W, multiple=fy_)
    if render is None:
        return fy, None
    source, box = (fy, (0, 0, W, H)) if reduced is None else (reduced, (0, 0, W / fx, H / fy_))
    small = Image.fromarray(source, "F").resize(render, Image.Resampling.BILINEAR, box=box)
    return fy, np.array(small, dtype=np.float32)


def _reduce_factors(size: tuple[int, int], render: tuple[int, int]) -> tuple[int, int]:
    """The box reduction Pillow's resize(reducing_gap=2) makes before resampling `size` to `render`."""
    return tuple(max(1, int(s / r / 2.0)) for s, r in zip(size, render, strict=True))


def run_strips(fn, height: int, width: int, multiple: int = 1) -> None:
    """fn(rows) for every strip of rows (each starting at a `multiple` of rows), on all cores (the backends'
    numeric work releases the GIL)."""
    for _ in strip_pool().map(fn, strips(height, width, multiple=multiple)):
        pass


@functools.cache
def strip_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="autocolor-strips")


def strips(height: int, width: int, pixels: int = STRIP_PIXELS, multiple: int = 1):
    """Row slices covering a (height, width) image, each about `pixels` pixels (at least one row), each but the
    last a whole number of `multiple` rows."""
    rows = -(-max(1, pixels // max(width, 1)) // multiple) * multiple
    for top in range(0, height, rows):
        yield slice(top, min(top + rows, height))
