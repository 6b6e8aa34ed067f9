"""User colour hints: a point in the input's pixel coordinates and an sRGB colour, turned into the extra
input channels of a hint-conditioned generator (`generator.hints = true`).

    Hint(x, y, "#b22222") or (x, y, (r, g, b))  ->  hint raster (3, h, w) at render size:
        channels 0-1: the colour's ab / 110 (its Lab a and b; the lightness stays the photo's own, since the
                      network only ever sees the photo's L), in a HINT_SIDE x HINT_SIDE square around the point
        channel 2:    mask, 1 in those squares, else 0

The hints file of `autocolor colorize --hints` is a JSON list of {"x": .., "y": .., "color": "#rrggbb"}.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .colorspace import AB_SCALE, rgb_to_ab

HINT_SIDE = 3  # side of the square a hint fills at render size (training patches are 1-9 px)
MAX_HINTS = 1000  # more points than anyone places by hand; millions would take minutes and gigabytes
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Hint:
    """x, y: the point in the input image's pixels (0 <= x < width, 0 <= y < height, x to the right, y
    down); color: "#rrggbb" or an (r, g, b) tuple of 0-255 integers."""

    x: float
    y: float
    color: str | tuple[int, int, int]

    @property
    def rgb(self) -> tuple[int, int, int]:
        return parse_color(self.color)


HintLike = Hint | tuple[float, float, str | tuple[int, int, int]]


def parse_color(color: object) -> tuple[int, int, int]:
    """ "#rrggbb" or (r, g, b) with integers in 0-255 -> (r, g, b); anything else is a ValueError."""
    if isinstance(color, str):
        if not _HEX.fullmatch(color.strip()):
            raise ValueError(f"bad hint colour {color!r}: expected '#rrggbb' (six hex digits)")
        c = color.strip()
        return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)
    if isinstance(color, Sequence) and len(color) == 3:
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v <= 255 for v in color):
            return int(color[0]), int(color[1]), int(color[2])
    raise ValueError(f"bad hint colour {color!r}: expected '#rrggbb' or (r, g, b) with integers 0-255")


def to_hint(item: object) -> Hint:
    """A Hint or an (x, y, colour) tuple -> a validated Hint (finite coordinates, a valid colour)."""
    if isinstance(item, Hint):
        hint = item
    elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 3:
        hint = Hint(*item)
    else:
        raise ValueError(f"bad hint {item!r}: expected Hint(x, y, color) or (x, y, color)")
    for name in ("x", "y"):
        v = getattr(hint, name)
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not math.isfinite(v):
            raise ValueError(f"bad hint {item!r}: {name} must be a finite number, got {v!r}")
    hint.rgb  # noqa: B018  (validates the colour)
    return hint


def check_hints(hints: Iterable[object], width: int, height: int) -> list[Hint]:
    """Validate hints against an image of width x height pixels; a point outside it, or more than MAX_HINTS
    points, is a ValueError."""
    out = []
    for item in hints:
        if len(out) == MAX_HINTS:
            raise ValueError(f"too many hints: at most {MAX_HINTS} points")
        hint = to_hint(item)
        if not (0 <= hint.x < width and 0 <= hint.y < height):
            raise ValueError(
                f"hint at ({hint.x}, {hint.y}) is outside the image (0 <= x < {width}, 0 <= y < {height})"
            )
        out.append(hint)
    return out


def hint_raster(
    hints: Sequence[Hint],
    width: int,
    height: int,
    size: tuple[int, int],
    padded: tuple[int, int] | None = None,
) -> np.ndarray:
    """Validated hints on a width x height image -> (3, Hp, Wp) float32: hint ab / 110 and the mask, at render
    size `size` = (h, w) (the image scaled), zero-padded on the bottom and right to `padded` = (Hp, Wp)."""
    h, w = size
    Hp, Wp = padded or size
    out = np.zeros((3, Hp, Wp), np.float32)
    abs_ = rgb_to_ab([hint.rgb for hint in hints]) / AB_SCALE
    for hint, ab in zip(hints, abs_, strict=True):
        cy = min(h - 1, int((hint.y + 0.5) * h / height))  # the render pixel the point falls in
        cx = min(w - 1, int((hint.x + 0.5) * w / width))
        top, left = max(0, cy - HINT_SIDE // 2), max(0, cx - HINT_SIDE // 2)
        bottom, right = min(h, cy + HINT_SIDE // 2 + 1), min(w, cx + HINT_SIDE // 2 + 1)
        out[:2, top:bottom, left:right] = ab[:, None, None]
        out[2, top:bottom, left:right] = 1.0
    return out


def load_hints(path: str | os.PathLike) -> list[Hint]:
    """A hints file (JSON list of {"x", "y", "color"}) -> hints; errors name the file and the entry."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise ValueError(f"{path}: cannot read hints file ({e.strerror or e})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a JSON hints file ({e})") from None
    return parse_hints(data, str(path))


def parse_hints(data: object, source: str = "hints") -> list[Hint]:
    """Parsed JSON (a list of {"x", "y", "color"}) -> hints; errors name `source` and the entry."""
    if not isinstance(data, list):
        raise ValueError(f'{source}: expected a JSON list of {{"x": .., "y": .., "color": "#rrggbb"}}')
    if len(data) > MAX_HINTS:
        raise ValueError(f"{source}: {len(data)} hints; at most {MAX_HINTS} points")
    hints = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or set(entry) != {"x", "y", "color"}:
            raise ValueError(
                f'{source}: entry {i} must be {{"x": .., "y": .., "color": "#rrggbb"}}, got {entry!r}'
            )
        if not isinstance(entry["color"], str):
            raise ValueError(f"{source}: entry {i}: color must be a '#rrggbb' string, got {entry['color']!r}")
        try:
            hints.append(to_hint(Hint(entry["x"], entry["y"], entry["color"])))
        except ValueError as e:
            raise ValueError(f"{source}: entry {i}: {e}") from None
    return hints
