"""The Colorizer: one pipeline for the CLI, the web server, evaluation and tests.

    photo (any size) -> L at full resolution -> L resized so its long side is `render_size` (padded to the
    network's multiple) -> U-Net -> ab at render size -> upsampled (bilinear) -> merged with the full-res L

The output has exactly the input's size and lightness; only colour comes from the network, which never runs
at full resolution, so memory stays bounded for very large photos. Alpha is carried over unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .checkpoint import WEIGHTS_NAME, load_pretrained
from .color import AB_SCALE, lab_to_rgb_uint8, lightness_f, normalize_l
from .io import DEFAULT_MAX_PIXELS, LoadedImage, from_pil, load_image
from .models import UNet
from .precision import autocast

ImageInput = Image.Image | np.ndarray | str | os.PathLike


def bundled_weights() -> Path:
    """The folder of the default generator shipped inside the package."""
    return Path(str(resources.files("autocolor") / "weights"))


def _interp_matrix(out_size: int, in_size: int) -> torch.Tensor:
    """(out_size, in_size) weights of 1-D linear interpolation, exactly as F.interpolate computes them."""
    eye = torch.eye(in_size)[None]  # (1, in, in): each row a unit impulse
    return F.interpolate(eye, size=out_size, mode="linear", align_corners=False)[0].T.contiguous()


def upsampler(ab: torch.Tensor, height: int, width: int):
    """rows -> ab (2, len(rows), width): `ab` (2, h, w) bilinearly upsampled to (height, width), as
    F.interpolate(..., mode="bilinear", align_corners=False) would give, computed one strip of rows at a time."""
    ry = _interp_matrix(height, ab.shape[1])  # (height, h): the two vertical taps of every output row

    def rows(sl: slice) -> torch.Tensor:
        strip = torch.matmul(ry[sl], ab)  # (2, r, w)
        return F.interpolate(strip, size=width, mode="linear", align_corners=False)

    return rows


class Colorizer:
    """Colorize photos with a trained generator. Thread-compatible: one model, no per-call state."""

    def __init__(
        self,
        model: UNet,
        device: str | torch.device = "cpu",
        precision: str = "fp32",
        render_size: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ):
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for but CUDA is not available; use --device cpu")
        self.model = model.to(self.device).eval()
        self.precision = precision
        self.render_size = render_size or model.config.render_size
        self.chroma_gain = model.config.chroma_gain
        self.max_pixels = max_pixels
        autocast(self.device, precision)  # validates the name

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike | None = None,
        device: str = "cpu",
        precision: str = "fp32",
        render_size: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> Colorizer:
        """Load a generator folder (config.json + model.safetensors); None loads the bundled default weights."""
        if path is None:
            path = bundled_weights()
            if not (path / WEIGHTS_NAME).is_file():
                raise FileNotFoundError(
                    "no default weights are bundled with this installation of autocolor; "
                    "pass the generator/ folder of a training run (--weights RUN/generator)"
                )
        return cls(load_pretrained(path), device, precision, render_size, max_pixels)

    # --- public API ------------------------------------------------------------------------------------
    def colorize(self, image: ImageInput, render_size: int | None = None) -> Image.Image:
        """A PIL image, an (H, W[, 3|4]) uint8 array or a path -> colour PIL image of the same size (RGB or RGBA)."""
        return self.colorize_batch([image], render_size)[0]

    def colorize_batch(
        self, images: Sequence[ImageInput], render_size: int | None = None, batch_size: int = 8
    ) -> list[Image.Image]:
        """Colorize many images; those whose render shapes agree share a forward pass (up to batch_size)."""
        out: list[Image.Image] = []
        for start in range(0, len(images), batch_size):
            chunk = [self.load(im) for im in images[start : start + batch_size]]
            out += [self._to_pil(im) for im in self.colorize_loaded(chunk, render_size, batch_size)]
        return out

    def colorize_video(
        self, src: str | os.PathLike, dst: str | os.PathLike, stabilize: bool = True, **kwargs
    ):
        """Colorize a video file into dst (.mp4/.mkv/.mov), keeping size, timing, rotation and audio; see
        `autocolor.video.colorize_video` for the options. Needs the [video] extra."""
        from .video.convert import colorize_video

        return colorize_video(self, src, dst, stabilize=stabilize, **kwargs)

    def colorize_frames(self, frames: Iterable, stabilize: bool = True, **kwargs):
        """Frames (PIL images or uint8 arrays) in display order -> colour (H, W, 3) uint8 frames, lazily; see
        `autocolor.video.colorize_frames`. Needs the [video] extra."""
        from .video.frames import colorize_frames

        return colorize_frames(self, frames, stabilize=stabilize, **kwargs)

    def load(self, image: ImageInput) -> LoadedImage:
        if isinstance(image, LoadedImage):
            return image
        if isinstance(image, Image.Image):
            return from_pil(image)
        if isinstance(image, np.ndarray):
            return _from_array(image)
        return load_image(image, self.max_pixels)

    def colorize_loaded(
        self, images: Iterable[LoadedImage], render_size: int | None = None, batch_size: int = 8
    ) -> list[LoadedImage]:
        """Colorize loaded images, `batch_size` at a time (memory stays bounded however many are given);
        within a chunk, images whose render shapes agree share one forward pass."""
        images = list(images)
        out: list[LoadedImage] = []
        for start in range(0, len(images), batch_size):
            out += self._colorize_chunk(images[start : start + batch_size], render_size or self.render_size)
        return out

    def _colorize_chunk(self, images: list[LoadedImage], size: int) -> list[LoadedImage]:
        fys = [lightness_f(im.rgb) for im in images]
        smalls = [self._render_input(fy, size) for fy in fys]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, (L, _) in enumerate(smalls):
            groups.setdefault(tuple(L.shape[-2:]), []).append(i)
        abs_: list[torch.Tensor | None] = [None] * len(images)
        for members in groups.values():
            preds = self.predict(torch.stack([smalls[i][0] for i in members]))
            for i, pred in zip(members, preds, strict=True):
                h, w = smalls[i][1]
                abs_[i] = pred[:, :h, :w]
        return [
            LoadedImage(self._compose(fy, ab), im.alpha, im.path)
            for fy, ab, im in zip(fys, abs_, images, strict=True)
        ]

    @torch.no_grad()
    def predict(self, L: torch.Tensor) -> torch.Tensor:
        """L (B, 1, H, W) in [-1, 1], sides multiples of the network's -> ab (B, 2, H, W) in [-110, 110]."""
        with autocast(self.device, self.precision):
            ab = self.model(L.to(self.device)).float().cpu()
        return (ab * self.chroma_gain).clamp_(-1.0, 1.0).mul_(AB_SCALE)

    # --- steps -----------------------------------------------------------------------------------------
    def _render_input(self, fy: np.ndarray, size: int) -> tuple[torch.Tensor, tuple[int, int]]:
        """Full-res fy -> normalised L (1, Hp, Wp) with long side `size`, padded to the network's multiple."""
        H, W = fy.shape
        scale = size / max(H, W)
        h, w = max(1, round(H * scale)), max(1, round(W * scale))
        L = Image.fromarray(fy * 116.0 - 16.0, "F").resize(
            (w, h), Image.Resampling.BILINEAR, reducing_gap=2.0
        )
        L = normalize_l(torch.from_numpy(np.asarray(L, dtype=np.float32).copy()))[None]
        m = self.model.multiple
        ph, pw = -h % m, -w % m
        if ph or pw:
            L = F.pad(L[None], (0, pw, 0, ph), mode="replicate")[0]
        return L, (h, w)

    def _compose(self, fy: np.ndarray, ab: torch.Tensor) -> np.ndarray:
        """Full-res fy (H, W) + ab (2, h, w) -> (H, W, 3) uint8, upsampling ab one strip of rows at a time."""
        return lab_to_rgb_uint8(fy, upsampler(ab.float(), *fy.shape))

    @staticmethod
    def _to_pil(image: LoadedImage) -> Image.Image:
        out = Image.fromarray(image.rgb, "RGB")
        if image.alpha is not None:
            out.putalpha(Image.fromarray(image.alpha, "L"))
        return out


def _from_array(arr: np.ndarray) -> LoadedImage:
    if arr.dtype != np.uint8:
        raise ValueError(f"expected a uint8 array, got {arr.dtype}")
    if arr.ndim == 2:
        return LoadedImage(np.repeat(arr[..., None], 3, axis=2))
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        return LoadedImage(
            np.ascontiguousarray(arr[..., :3]), arr[..., 3].copy() if arr.shape[2] == 4 else None
        )
    raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) array, got shape {arr.shape}")
