"""Image loading and saving: any mode Pillow reads -> RGB uint8 (+ alpha kept aside), with clear errors.

Every failure to read a file raises `ImageError`, whose message names the file and the reason, so batch
front ends can print one line per bad file and go on.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 100_000_000
IMAGE_EXTENSIONS = (
    ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".ppm", ".pgm", ".pbm", ".tga", ".jp2",
)  # fmt: skip
SAVE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".bmp": "BMP",
                ".tif": "TIFF", ".tiff": "TIFF"}  # fmt: skip
_ALPHA_FORMATS = {"PNG", "WEBP", "TIFF"}


class ImageError(ValueError):
    """A file that cannot be used as an image; `str()` is 'PATH: reason'.

    `kind` says why, for front ends that map errors to codes: "missing", "too_large", "not_image" or "corrupt".
    """

    def __init__(self, path: str | os.PathLike | None, reason: str, kind: str = "corrupt"):
        self.path = str(path) if path is not None else "<image>"
        self.reason, self.kind = reason, kind
        super().__init__(f"{self.path}: {reason}")


@dataclass
class LoadedImage:
    """rgb: (H, W, 3) uint8 with EXIF orientation applied; alpha: (H, W) uint8 or None."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    path: str | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.rgb.shape[1], self.rgb.shape[0]


def is_image_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def list_images(
    root: str | os.PathLike, exclude: str | os.PathLike | None = None, also: tuple[str, ...] = ()
) -> list[Path]:
    """Image files (and files ending in one of `also`) under `root` (recursive, sorted); a single file is
    returned as is. Skips `exclude`'s tree."""
    root = Path(root)
    if root.is_file():
        return [root]
    skip = Path(exclude).resolve() if exclude is not None else None
    found = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and (is_image_path(p) or p.suffix.lower() in also) and not p.name.startswith("."):
            if skip is not None and p.resolve().is_relative_to(skip):
                continue
            found.append(p)
    return found


def _to_8bit(im: Image.Image) -> Image.Image:
    """16-bit and float grayscale modes -> 'L' by scaling their range, not by clipping."""
    arr = np.asarray(im)
    if im.mode.startswith("I;16") or (im.mode == "I" and arr.max(initial=0) > 255):
        arr = np.clip(arr.astype(np.float64) / 257.0, 0, 255)
    elif im.mode == "F":
        scale = 255.0 if arr.max(initial=0) <= 1.0 else 1.0
        arr = np.clip(arr.astype(np.float64) * scale, 0, 255)
    return Image.fromarray(np.round(arr).astype(np.uint8), "L")


def from_pil(im: Image.Image, path: str | os.PathLike | None = None) -> LoadedImage:
    """A Pillow image of any mode -> LoadedImage (EXIF orientation applied)."""
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block must not lose the picture
        pass
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        im = _to_8bit(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    alpha = None
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        alpha = np.asarray(im.getchannel("A")).copy()
        if alpha.min() == 255:
            alpha = None
    if im.mode != "RGB":
        im = im.convert("RGB")
    return LoadedImage(np.asarray(im).copy(), alpha, str(path) if path is not None else None)


def load_image(
    source: str | os.PathLike | bytes,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
    reduce: int = 1,
) -> LoadedImage:
    """Read any image Pillow understands (a path, or the bytes of a file) into RGB uint8 plus optional alpha.

    Raises ImageError (naming the file, or `name` for bytes) for missing, empty, truncated, corrupt, non-image
    or too large (over `max_pixels`) files.
    """
    if isinstance(source, bytes):
        path, fp = name or "<upload>", io.BytesIO(source)
        size = len(source)
    else:
        path = fp = Path(source)
        if not path.is_file():
            raise ImageError(path, "no such file", "missing")
        size = path.stat().st_size
    if size == 0:
        raise ImageError(path, "empty file", "not_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fp) as im:
                w, h = im.size
                if w * h > max_pixels:
                    raise ImageError(
                        path,
                        f"too large: {w}x{h} = {w * h / 1e6:.0f} MP exceeds the limit of "
                        f"{max_pixels / 1e6:.0f} MP (raise it with --max-pixels)",
                        "too_large",
                    )
                if reduce > 1:  # a quick look: JPEGs decode at up to 1/reduce of their size
                    im.draft("RGB", (max(64, w // reduce), max(64, h // reduce)))
                im.load()
                return from_pil(im, path)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(path, "not an image Pillow can read", "not_image") from None
    except Image.DecompressionBombError as e:
        raise ImageError(path, f"too large: {e}", "too_large") from None
    except (OSError, SyntaxError, ValueError) as e:
        reason = str(e) or type(e).__name__
        if "truncated" in reason:
            reason = "truncated image file"
        raise ImageError(path, f"corrupt image ({reason})") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(tmp: str | os.PathLike, path: str | os.PathLike, mode: int = 0o666) -> None:
    """Move a finished temporary file (or folder, mode 0o777) into place atomically, with the permissions a
    normal write would give (not mkstemp's 0600)."""
    os.chmod(tmp, mode & ~_umask())
    os.replace(tmp, path)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, fsync: bool = False) -> Iterator[BinaryIO]:
    """Open a temporary file beside `path` for writing; on success it replaces `path` atomically (with
    `fsync`, durably), on failure it is removed and `path` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_image(
    path: str | os.PathLike, rgb: np.ndarray, alpha: np.ndarray | None = None, quality: int = 95
) -> Path:
    """Write (H, W, 3) uint8 (+ alpha where the format keeps it) to `path`, format from its extension.

    JPEG is written at `quality` without chroma subsampling. The file appears atomically (temp + rename).
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(
            path, f"cannot write '{path.suffix}' files; use one of {', '.join(sorted(SAVE_FORMATS))}"
        )
    im = Image.fromarray(rgb, "RGB")
    if alpha is not None and fmt in _ALPHA_FORMATS:
        im.putalpha(Image.fromarray(alpha, "L"))
    options = {"quality": quality, "subsampling": 0} if fmt == "JPEG" else {}
    if fmt == "WEBP":
        options = {"quality": quality}
    with atomic_open(path) as f:
        im.save(f, format=fmt, **options)
    return path
