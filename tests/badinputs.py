"""A corpus of bad and odd image inputs, built from scratch in a folder, with what each one should give.

`build(root)` returns {file name: expectation}; an expectation is None for a file that must be processed (a
picture comes out), or a few words the one error line about that file must contain. Also used by bench/.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

# The ones a folder scan does not see (not image extensions) but that fail when named on the command line.
NOT_SCANNED = ("drawing.svg", "document.pdf")
LINKS = ("loop.jpg", "dangling.png")


def _colourful(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w, y / h, 1 - x / w], axis=-1) * 0.7 + rng.uniform(0, 0.3, (1, 1, 3))
    return (img * 255).round().astype(np.uint8)


def png_header_only(width: int, height: int) -> bytes:
    """A valid 1-bit gray PNG of width x height, all black: tiny on disk, huge when decoded (a 'bomb')."""
    row = b"\0" * (1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def icc_profile(description: str = "Display P3 (test)", gamma: float = 2.2) -> bytes:
    """An ICC v2 RGB matrix/TRC display profile with Display P3's primaries (D50-adapted) and a pure gamma."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    d50 = (0.9642, 1.0, 0.8249)

    def xyz(v) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(c) for c in v)

    text = description.encode("ascii") + b"\0"
    curv = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))
    tags = [
        (b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 78),
        (b"wtpt", xyz(d50)),
        (b"rXYZ", xyz((0.51512, 0.24120, -0.00105))),
        (b"gXYZ", xyz((0.29198, 0.69225, 0.04189))),
        (b"bXYZ", xyz((0.15710, 0.06657, 0.78407))),
        (b"rTRC", curv),
        (b"gTRC", curv),
        (b"bTRC", curv),
        (b"cprt", b"text\0\0\0\0none\0"),
    ]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for sig, body in tags:
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    header = (
        struct.pack(">I", offset + len(data))
        + b"\0" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + b"".join(s15(c) for c in d50)
        + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + table + data


def corrupt_exif() -> bytes:
    """An EXIF block whose one tag points past its end (Pillow warns 'Tag data larger than file')."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHII", 0x010E, 2, 100, 0x1000) + struct.pack("<I", 0)
    return b"Exif\0\0" + b"II*\0" + struct.pack("<I", 8) + ifd


def _encoded(im: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def build(root: Path) -> dict[str, str | None]:
    """Write the corpus into `root` (created); returns {name: None (must work) or words of its error}."""
    root.mkdir(parents=True, exist_ok=True)
    photo = Image.fromarray(_colourful(48, 64))
    jpeg, png = _encoded(photo, "JPEG", quality=90), _encoded(photo, "PNG")
    rng = np.random.default_rng(0)
    files: dict[str, tuple[bytes, str | None]] = {
        "zero.jpg": (b"", "empty file"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "truncated"),
        "truncated.png": (png[: len(png) // 2], "corrupt image"),
        "random.jpg": (rng.integers(0, 256, 4096, dtype=np.uint8).tobytes(), "not an image"),
        "text.jpg": (b"just some words, not a picture\n", "not an image"),
        "page.png": (b"<!doctype html><html><body><img src=x></body></html>\n", "not an image"),
        "drawing.svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', "not an image"),
        "document.pdf": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "not an image"),
        "bomb.png": (png_header_only(30000, 30000), "too large"),  # beyond Pillow's own guard
        "big.png": (png_header_only(11000, 10000), "too large"),  # 110 MP: beyond ours (100 MP), not Pillow's
        "one_pixel.png": (_encoded(Image.new("RGB", (1, 1), (90, 90, 90)), "PNG"), None),
        "thin_1x20000.png": (_encoded(Image.new("L", (1, 20000), 128), "PNG"), None),
        "cmyk.jpg": (_encoded(photo.convert("CMYK"), "JPEG"), None),
        "gray16.png": (
            _encoded(Image.fromarray(np.asarray(photo.convert("L")).astype(np.uint16) * 257), "PNG"),
            None,
        ),
        "rgba.png": (_encoded(_with_alpha(photo, "RGBA"), "PNG"), None),
        "la.png": (_encoded(_with_alpha(photo.convert("L"), "LA"), "PNG"), None),
        "palette_transparent.png": (_palette_with_transparency(photo), None),
        "animated.gif": (_frames(photo, "GIF"), None),
        "pages.tiff": (_frames(photo, "TIFF"), None),
        "exif_rotated.jpg": (_rotated(photo), None),
        "corrupt_exif.jpg": (_encoded(photo, "JPEG", exif=corrupt_exif()), None),
        "display_p3.png": (_encoded(photo, "PNG", icc_profile=icc_profile()), None),
        "名前 with spaces é.jpg": (jpeg, None),
        "two words.png": (png, None),
    }
    for name, (data, _) in files.items():
        (root / name).write_bytes(data)
    os.symlink("loop.jpg", root / "loop.jpg")
    os.symlink("nowhere/missing.png", root / "dangling.png")
    expected = {name: why for name, (_, why) in files.items()}
    expected["loop.jpg"] = "symbolic link loop"
    expected["dangling.png"] = "broken symbolic link"
    return expected


def _with_alpha(im: Image.Image, mode: str) -> Image.Image:
    out = im.convert(mode)
    alpha = np.full(im.size[::-1], 255, np.uint8)
    alpha[:, : im.size[0] // 2] = 60
    out.putalpha(Image.fromarray(alpha))
    return out


def _palette_with_transparency(photo: Image.Image) -> bytes:
    im = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return _encoded(im, "PNG", transparency=int(np.asarray(im)[0, 0]))


def _frames(photo: Image.Image, fmt: str) -> bytes:
    frames = [Image.fromarray(np.roll(np.asarray(photo), 8 * i, axis=1)) for i in range(3)]
    return _encoded(frames[0], fmt, save_all=True, append_images=frames[1:])


def _rotated(photo: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    return _encoded(photo, "JPEG", exif=exif)
