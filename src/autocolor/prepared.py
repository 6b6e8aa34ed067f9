"""A photo between the Colorizer's stages (`prepare` -> `predict_ab` -> `compose`), and the strips of rows that
its full-resolution work is cut into, run on every core (the backends' numeric work releases the GIL)."""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .hints import Hint
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
