"""What one colorize request does, apart from HTTP: its form fields checked, then decode, colorize and encode
(in a worker thread; see server.py).

With a `reference` file part, the photo takes the colours of that photo where they match (autocolor.reference);
the answer's X-Reference-Confidence header is the share of the photo that matched and X-Reference-Used says
whether it was enough to use it. With the field `overlay=1` as well, the answer is instead the map of where the
photo took its colours from the reference (white), at the network's render size.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import numpy as np
from PIL import Image

from .config import RENDER_SIZES
from .hints import Hint
from .io import ImageError, load_image
from .pipeline import Colorizer
from .upload import RecentImages, UploadError

MIN_RENDER_SIZE = RENDER_SIZES[0]


def content_disposition(name: str) -> str:
    """`inline` with the result's file name: an ASCII fallback plus RFC 5987 `filename*` for any script."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    full = f"{stem or 'photo'}.colorized.png"
    ascii_stem = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_. ") else "_" for ch in stem)
    if not any(ch.isalnum() for ch in ascii_stem):
        ascii_stem = "photo"
    return f"inline; filename=\"{ascii_stem[:100]}.colorized.png\"; filename*=UTF-8''{quote(full)}"


def colorize_upload(
    colorizer: Colorizer,
    data: bytes,
    name: str,
    render_size: int | None,
    max_pixels: int,
    hints: list[Hint] | None = None,
    recent: RecentImages | None = None,
    vividness: float | None = None,
    reference: tuple[str, bytes] | None = None,
    references: RecentImages | None = None,
    overlay: bool = False,
) -> tuple[bytes, float | None]:
    """Upload bytes -> (PNG bytes, the share of the photo that matched `reference` or None): decode, colorize,
    encode (the memory-heavy part; runs in a worker thread). `reference`: (label, bytes) of a colour photo to
    take colours from; with `overlay`, the PNG is instead the map of where the photo took them (white), at the
    network's render size."""
    load = lambda: load_image(data, max_pixels, name=name)  # noqa: E731
    image = recent.get(data, load) if recent is not None else load()
    try:
        hints = colorizer.check_hints(hints or [], image)
    except ValueError as e:
        raise UploadError(400, f"hints: {e}") from None
    ref = None
    if reference is not None:
        ref_name, ref_data = reference
        make = lambda: colorizer.reference(load_image(ref_data, max_pixels, name=f"reference {ref_name}"))  # noqa: E731
        try:
            ref = references.get(ref_data, make) if references is not None else make()
        except ImageError:
            raise
        except ValueError as e:
            raise UploadError(400, f"reference: {e}") from None
    if overlay:
        if ref is None:
            raise UploadError(400, "overlay: send a `reference` photo with it")
        weight, confidence = colorizer.reference_map(image, ref, render_size)
        result = Image.fromarray(np.rint(weight * 255).astype(np.uint8), "L")
    else:
        result = colorizer.colorize(image, render_size, hints=hints, vividness=vividness, reference=ref)
        confidence = result.info.get("reference_confidence")
    del image
    buf = io.BytesIO()
    result.save(buf, format="PNG", compress_level=1)
    return buf.getvalue(), confidence


def parse_render_size(text: str | None, limit: int) -> int | None:
    if text is None or text == "":
        return None
    value = int(text) if text.strip().lstrip("-").isdigit() else None
    if value is None or not MIN_RENDER_SIZE <= value <= limit:
        raise UploadError(400, f"render_size must be a whole number between {MIN_RENDER_SIZE} and {limit}")
    return value


def parse_vividness(text: str | None, colorizer: Colorizer) -> float | None:
    if text is None or text == "":
        return None
    try:
        return colorizer.check_vividness(float(text))
    except ValueError as e:
        raise UploadError(400, f"vividness: {e}") from None
