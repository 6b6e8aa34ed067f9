"""Image loading and saving: any mode Pillow reads -> RGB uint8 (+ alpha kept aside), with clear errors.

Every failure to read a file raises `ImageError`, whose message names the file and the reason, so batch
front ends can print one line per bad file and go on.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from .atomic import atomic_open

DEFAULT_MAX_PIXELS = 100_000_000
IMAGE_EXTENSIONS = (
    ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".ppm", ".pgm", ".pbm", ".tga", ".jp2",
)  # fmt: skip
SAVE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".bmp": "BMP",
                ".tif": "TIFF", ".tiff": "TIFF"}  # fmt: skip
_ALPHA_FORMATS = {"PNG", "WEBP", "TIFF"}


class ImageError(ValueError):
    """A file that cannot be used as an image; `str()` is 'PATH: reason'.

    `kind` says why, for front ends that map errors to codes: "missing", "unreadable" (permissions, links),
    "too_large", "not_image" or "corrupt".
    """

    def __init__(self, path: str | os.PathLike | None, reason: str, kind: str = "corrupt"):
        self.path = str(path) if path is not None else "<image>"
        self.reason, self.kind = reason, kind
        super().__init__(f"{self.path}: {reason}")


@dataclass
class LoadedImage:
    """rgb: (H, W, 3) uint8 sRGB with EXIF orientation applied, read-only (a gray photo's is one plane seen
    three times: strides[2] == 0); alpha: (H, W) uint8 or None.

    `notes`: what the loader did that the user should know (which frame of an animation, a colour profile
    that could not be applied, unreadable EXIF), one short sentence each, without the file name.
    `reference_confidence`: for a photo colorized with a reference, the share of it that matched.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    path: str | None = None
    notes: list[str] = field(default_factory=list)
    reference_confidence: float | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.rgb.shape[1], self.rgb.shape[0]


def is_image_path(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def list_images(root: str | os.PathLike, exclude: str | os.PathLike | None = None) -> list[Path]:
    """Image files under `root` (recursive, sorted); a single file is returned as is. Skips `exclude`'s tree."""
    root = Path(root)
    if root.is_file():
        return [root]
    skip = Path(exclude).resolve() if exclude is not None else None
    found = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and is_image_path(p) and not p.name.startswith("."):
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


def from_array(arr: np.ndarray) -> LoadedImage:
    """An (H, W[, 3|4]) uint8 array -> a LoadedImage (gray repeated to three channels, a fourth taken as alpha)."""
    if arr.dtype != np.uint8:
        raise ValueError(f"expected a uint8 array, got {arr.dtype}")
    if arr.ndim >= 2 and 0 in arr.shape[:2]:
        raise ValueError(f"the image is empty: its array has shape {arr.shape}")
    if arr.ndim == 2:
        return LoadedImage(np.repeat(arr[..., None], 3, axis=2))
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        return LoadedImage(
            np.ascontiguousarray(arr[..., :3]), arr[..., 3].copy() if arr.shape[2] == 4 else None
        )
    raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) array, got shape {arr.shape}")


def from_pil(
    im: Image.Image, path: str | os.PathLike | None = None, notes: list[str] | None = None
) -> LoadedImage:
    """A Pillow image of any mode -> LoadedImage: EXIF orientation applied, an embedded ICC profile converted
    to sRGB, 16-bit and float scaled to 8 bits. Problems that do not lose the picture go to `notes`."""
    notes = [] if notes is None else notes
    icc = im.info.get("icc_profile")
    try:  # (exif_transpose copies the whole image even when it has nothing to turn: ask first)
        if im.getexif().get(ExifTags.Base.Orientation, 1) not in (None, 1):
            im = ImageOps.exif_transpose(im)
    except Exception as e:  # a broken EXIF block must not lose the picture, but the user must hear of it
        notes.append(f"EXIF orientation unreadable ({type(e).__name__}: {e}); used the pixels as stored")
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        im = _to_8bit(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    alpha = None
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        alpha = np.asarray(im.getchannel("A")).copy()
        if alpha.min() == 255:
            alpha = None
    if icc:
        im = _to_srgb(im, icc, notes)
    if im.mode in ("L", "LA", "La", "1"):  # gray: one plane seen as three (read-only, no copies)
        plane = np.asarray(im if im.mode == "L" else im.convert("L"))
        rgb = np.broadcast_to(plane[..., None], (*plane.shape, 3))  # see shared_plane
    else:
        rgb = np.asarray(im if im.mode == "RGB" else im.convert("RGB"))  # read-only: nothing writes to it
    return LoadedImage(rgb, alpha, str(path) if path is not None else None, notes)


_SRGB: list = []


def _to_srgb(im: Image.Image, icc: bytes, notes: list[str]) -> Image.Image:
    """Colour values described by the ICC profile `icc` -> sRGB (relative colorimetric), alpha dropped (the
    caller keeps it). An sRGB profile is left alone; one that cannot be used is noted, not fatal."""
    base = {"RGBA": "RGB", "RGBa": "RGB", "LA": "L", "La": "L", "1": "L"}.get(im.mode, im.mode)
    if base not in ("RGB", "L", "CMYK"):
        return im
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower().replace(" ", ""):
            return im
        if not _SRGB:
            _SRGB.append(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")))
        return ImageCms.profileToProfile(
            im.convert(base) if im.mode != base else im,
            profile,
            _SRGB[0],
            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
            outputMode="RGB",
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as e:
        notes.append(f"embedded colour profile not applied ({e}); read as sRGB")
        return im


_DECODE = threading.Lock()  # warnings.catch_warnings changes process-wide state: one decode at a time


def _allow_pixels(max_pixels: int) -> None:
    """Make Pillow's own decompression-bomb guard at least as generous as our limit, so ours decides (with our
    wording) and `--max-pixels` above Pillow's default works; Pillow's guard still stops files of more than
    twice the limit before they are parsed further. Only ever raised, so concurrent callers cannot race."""
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels


def _too_large(path, pixels: str, max_pixels: int) -> ImageError:
    return ImageError(
        path,
        f"too large: {pixels} exceeds the limit of {max_pixels / 1e6:.0f} MP (raise it with --max-pixels)",
        "too_large",
    )


def _open_file(path: Path) -> tuple[BinaryIO, int]:
    """Open a file for reading, or raise ImageError saying exactly why not (missing, link loop, folder,
    permission denied)."""
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise ImageError(path, "is a folder, not an image file", "not_image")
        return open(path, "rb"), st.st_size
    except FileNotFoundError:
        if path.is_symlink():
            raise ImageError(path, f"broken symbolic link (to {os.readlink(path)})", "missing") from None
        raise ImageError(path, "no such file", "missing") from None
    except PermissionError:
        raise ImageError(path, "permission denied (cannot read the file)", "unreadable") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ImageError(path, "symbolic link loop", "unreadable") from None
        raise ImageError(path, f"cannot read the file ({e.strerror or e})", "unreadable") from None


def load_image(
    source: str | os.PathLike | bytes,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str | None = None,
    reduce: int = 1,
) -> LoadedImage:
    """Read any image Pillow understands (a path, or the bytes of a file) into sRGB uint8 plus optional alpha.

    Raises ImageError (naming the file, or `name` for bytes) for missing, unreadable, empty, truncated, corrupt,
    non-image or too large (over `max_pixels`) files. Multi-frame files use their first frame, and Pillow's
    warnings (e.g. corrupt EXIF) are kept: both appear in the result's `notes`.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be at least 1, got {max_pixels}")
    if isinstance(source, bytes):
        path, fp, size = name or "<upload>", io.BytesIO(source), len(source)
    else:
        path = Path(source)
        fp, size = _open_file(path)
    with fp:
        if size == 0:
            raise ImageError(path, "empty file", "not_image")
        return _decode(fp, path, max_pixels, reduce)


def _decode(fp: BinaryIO, path, max_pixels: int, reduce: int) -> LoadedImage:
    notes: list[str] = []
    _allow_pixels(max_pixels)
    try:
        with _DECODE, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fp) as im:
                w, h = im.size
                if w * h > max_pixels:
                    raise _too_large(path, f"{w}x{h} = {w * h / 1e6:.0f} MP", max_pixels)
                if getattr(im, "is_animated", False) or getattr(im, "n_frames", 1) > 1:
                    notes.append(
                        f"{im.format} has {im.n_frames} frames; used the first (frame 1 of {im.n_frames})"
                    )
                if reduce > 1:  # a quick look: JPEGs decode at up to 1/reduce of their size
                    im.draft("RGB", (max(64, w // reduce), max(64, h // reduce)))
                im.load()
                loaded = from_pil(im, path, notes)
            warned = [m for m in caught if not issubclass(m.category, DeprecationWarning)]
            loaded.notes[:0] = [f"Pillow warns: {m.message}" for m in warned]
            return loaded
    except ImageError:
        raise
    except PermissionError:
        raise ImageError(path, "permission denied (cannot read the file)", "unreadable") from None
    except UnidentifiedImageError:
        raise ImageError(path, "not an image Pillow can read", "not_image") from None
    except Image.DecompressionBombError as e:
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        raise _too_large(
            path, f"{int(pixels[1]) / 1e6:.0f} MP" if pixels else "the image", max_pixels
        ) from None
    except MemoryError:
        raise ImageError(path, "not enough memory to decode it", "too_large") from None
    except (OSError, SyntaxError, ValueError) as e:
        reason = str(e) or type(e).__name__
        if "truncated" in reason:
            reason = "truncated image file"
        raise ImageError(path, f"corrupt image ({reason})") from None


def keeps_alpha(path: str | os.PathLike) -> bool:
    """Whether `save_image` keeps an alpha channel in this file's format."""
    return SAVE_FORMATS.get(Path(path).suffix.lower()) in _ALPHA_FORMATS


def shared_plane(rgb: np.ndarray) -> np.ndarray | None:
    """The (H, W) plane behind a gray photo as `from_pil` loads it (one plane seen three times), else None."""
    return rgb[..., 0] if rgb.ndim == 3 and rgb.strides[-1] == 0 else None


def to_pil(rgb: np.ndarray) -> Image.Image:
    """(H, W, 3) uint8 RGB or (H, W) gray -> a Pillow image: for RGB laid out in 4-byte pixels (a view of an
    (H, W, 4) array, as the Colorizer writes its results), an "RGBX" image over the same memory (no copy,
    read-only); otherwise a copy."""
    base = rgb.base
    if (
        rgb.ndim == 3
        and isinstance(base, np.ndarray)
        and base.shape == (*rgb.shape[:2], 4)
        and base.dtype == np.uint8
        and base.flags.c_contiguous
        and rgb.strides == base.strides
        and rgb.__array_interface__["data"][0] == base.__array_interface__["data"][0]
    ):
        return Image.frombuffer("RGBX", (rgb.shape[1], rgb.shape[0]), base, "raw", "RGBX", 0, 1)
    return Image.fromarray(np.ascontiguousarray(rgb), "L" if rgb.ndim == 2 else "RGB")


def save_image(
    path: str | os.PathLike, rgb: np.ndarray, alpha: np.ndarray | None = None, quality: int = 95
) -> Path:
    """Write (H, W, 3) uint8 RGB or (H, W) uint8 gray (+ alpha where the format keeps it, see `keeps_alpha`)
    to `path`, format from its extension.

    JPEG is written at `quality` without chroma subsampling. The file appears atomically under its final name
    (see `atomic_open(stable=True)`): a file under that name is always complete.
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(
            path, f"cannot write '{path.suffix}' files; use one of {', '.join(sorted(SAVE_FORMATS))}"
        )
    im = to_pil(rgb)
    if alpha is not None and fmt in _ALPHA_FORMATS:
        im.putalpha(Image.fromarray(alpha, "L"))
    elif im.mode == "RGBX" and fmt != "JPEG":  # JPEG writes RGBX as RGB; the others want RGB
        im = im.convert("RGB")
    options = {"quality": quality, "subsampling": 0} if fmt == "JPEG" else {}
    if fmt == "WEBP":
        options = {"quality": quality}
    with atomic_open(path, stable=True) as f:
        im.save(f, format=fmt, **options)
    return path
