"""The Colorizer: one pipeline for the CLI, the web server, evaluation and tests (numpy and Pillow only).

    photo (any size) -> lightness at full resolution (strips of rows) -> resized so its long side is
    `render_size`, padded to the network's multiple -> network -> ab at render size -> guided upsampling by the
    full-res lightness and Lab -> sRGB (strips of rows) -> colour photo of the input's size and lightness

The numeric steps run on a backend (backends.py: onnxruntime, or PyTorch with the [train] extra); this module
resizes, pads, batches, cuts strips and carries alpha, and never imports torch. The network never runs at full
resolution, and full-resolution work goes strip by strip, so memory stays bounded for very large photos.

For callers that work between the two stages (e.g. video, which smooths ab over time): `prepare` ->
`predict_ab` -> `compose`; `colorize` is these three in a row.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image

from .backends import load_backend
from .colorspace import (
    AB_SCALE,
    fy_to_L,
    fy_to_network,
    gray_fy,
    input_channels,
    linear_to_srgb,
    rgb_to_ab,
)
from .config import check_render_size, temperature_to_vividness, vividness_to_temperature
from .hints import Hint, HintLike, check_hints, hint_raster
from .io import DEFAULT_MAX_PIXELS, LoadedImage, from_array, from_pil, load_image, shared_plane, to_pil
from .model_folder import bundled_weights
from .prepared import Prepared, lightness, run_strips
from .propagate import propagate_hints
from .reference import Reference, cells, match, take_colours

ImageInput = Image.Image | np.ndarray | str | os.PathLike

__all__ = ["Colorizer", "Prepared", "bundled_weights"]  # Prepared: see prepared.py


class Colorizer:
    """Colorize photos with a trained generator. Thread-compatible: one model, no per-call state."""

    def __init__(
        self,
        backend,
        render_size: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        guide_radius: int | None = None,
        guide_eps: float | None = None,
        vividness: float | None = None,
    ):
        self.backend = backend
        cfg = backend.config
        self.has_classes = cfg.classes > 0
        self.vividness = temperature_to_vividness(cfg.temperature) if self.has_classes else None
        if vividness is not None:
            self.vividness = self.check_vividness(vividness)
        self.render_size = check_render_size(render_size or cfg.render_size)
        self.chroma_gain = cfg.chroma_gain
        self.guide_radius = cfg.guide_radius if guide_radius is None else guide_radius
        self.guide_eps = cfg.guide_eps if guide_eps is None else guide_eps
        self.multiple = 2**cfg.num_downs
        self.in_channels = input_channels(cfg)  # L, then hint ab and mask
        self.network_hints = bool(cfg.hints)
        # hints steer the network (hint input channels) and/or are spread after it (propagate.py)
        self.hint_spread = (cfg.hint_sigma_s, cfg.hint_sigma_r, cfg.hint_reach)
        self.takes_hints = self.network_hints or cfg.hint_sigma_s > 0
        self.takes_reference = getattr(backend, "has_features", False)
        self.max_pixels = max_pixels

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike | None = None,
        device: str = "cpu",
        precision: str = "fp32",
        render_size: int | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        backend: str = "auto",
        guide_radius: int | None = None,
        vividness: float | None = None,
    ) -> Colorizer:
        """Load a model folder; None loads the bundled default model.

        backend: "onnx" (onnxruntime; the folder needs generator.onnx, see `autocolor export --onnx`), "torch"
        (PyTorch; needs model.safetensors and the [train] extra) or "auto" (onnx where it can, else torch).
        """
        if path is None:
            path = bundled_weights()
            if not (path / "config.json").is_file():
                raise FileNotFoundError(
                    "no default weights are bundled with this installation of autocolor; "
                    "pass the generator/ folder of a training run (--weights RUN/generator)"
                )
        backend_ = load_backend(path, backend, device, precision)
        return cls(backend_, render_size, max_pixels, guide_radius=guide_radius, vividness=vividness)

    @classmethod
    def from_model(cls, model, device: str = "cpu", precision: str = "fp32", **kwargs) -> Colorizer:
        """A Colorizer around an in-memory PyTorch generator (e.g. during training), on the torch backend."""
        from .torch_backend import TorchBackend

        return cls(TorchBackend(None, device=device, precision=precision, model=model), **kwargs)

    # --- public API ------------------------------------------------------------------------------------
    def colorize(
        self,
        image: ImageInput,
        render_size: int | None = None,
        hints: Sequence[HintLike] | None = None,
        vividness: float | None = None,
        reference: ImageInput | Reference | None = None,
    ) -> Image.Image:
        """A PIL image, an (H, W[, 3|4]) uint8 array or a path -> colour PIL image of the same size (RGB or RGBA).

        hints: colour points `Hint(x, y, "#rrggbb")` or `(x, y, (r, g, b))` in the image's pixel coordinates
        (needs a generator trained with hints; see autocolor.hints).
        vividness: colour strength in [0, 1] for a colour-class model (default: `self.vividness`, the model's).
        reference: a colour photo (any input this method takes, or `self.reference(photo)` made once for many
        photos) whose colours the photo takes where they match (see autocolor.reference); the user's hints win
        where both speak. The result's `info["reference_confidence"]` is the share of the photo that matched
        (below `reference.MIN_CONFIDENCE` the reference is not used: automatic colour).
        """
        loaded = [self.load(image)]
        ref = self.reference(reference) if reference is not None else None
        out = self.colorize_loaded(
            loaded, render_size, hints=[hints or []], vividness=vividness, reference=ref
        )
        pil = self._to_pil(out[0])
        if out[0].reference_confidence is not None:
            pil.info["reference_confidence"] = out[0].reference_confidence
        return pil

    def check_vividness(self, vividness: float) -> float:
        """`vividness` as a float if this model takes one and it is in range, else a ValueError saying why."""
        if not self.has_classes:
            raise ValueError(
                "this generator has no colour classes, so no vividness (its config.json has classes = 0); "
                "use a colour-class model such as the bundled one"
            )
        vividness_to_temperature(vividness)
        return float(vividness)

    def reference(self, image: ImageInput | Reference, render_size: int | None = None) -> Reference:
        """A colour photo -> a Reference for `colorize(..., reference=)`: its features (seen through its own
        gray, as the photos it colours are), lightness and colour at render size. Make it once for an album."""
        if isinstance(image, Reference):
            return image
        if not self.takes_reference:
            raise ValueError(
                "this generator cannot match a reference photo: it has no encoder features (use a model with "
                "generator.encoder set, such as the bundled one, exported by this version of autocolor)"
            )
        loaded = self.load(image)
        p = self.prepare(loaded, render_size)
        h, w = p.small.shape
        small = Image.fromarray(loaded.rgb).resize((w, h), Image.Resampling.BILINEAR, reducing_gap=2.0)
        ab = rgb_to_ab(np.asarray(small)).T.reshape(2, h, w) / AB_SCALE
        if np.abs(ab).max() * AB_SCALE < 1.0:  # under one Lab unit of colour anywhere
            raise ValueError(
                f"{loaded.path or 'the reference'}: is gray, so it has no colours to give; use a colour photo"
            )
        features = self.backend.network(self.network_input(p.small)[None], self._temperature(None), True)[1]
        gh, gw = cells((h, w))
        L = fy_to_L(p.small)
        return Reference(np.ascontiguousarray(features[0, :, :gh, :gw]), L, ab, loaded.path)

    def reference_map(
        self, image: ImageInput, reference: ImageInput | Reference, render_size: int | None = None
    ) -> tuple[np.ndarray, float]:
        """Where `image` takes its colours from `reference`: (h, w) float32 weights in [0, 1] at render size
        (all zero when too little matched to use it), and the share of the photo that matched."""
        p = self.prepare(image, render_size, reference=self.reference(reference, render_size))
        self.predict_ab([p])
        return p.match.weight, p.match.confidence

    def check_hints(self, hints: Sequence[HintLike], image: LoadedImage) -> list[Hint]:
        """Validated hints for `image`; hints for a generator without hint inputs are a ValueError."""
        if hints and not self.takes_hints:
            raise ValueError(
                "this generator takes no colour hints (its config.json has hints = false and "
                "hint_sigma_s = 0); use weights trained with generator.hints = true, or set hint_sigma_s"
            )
        return check_hints(hints, *image.size)

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
        `autocolor.video.colorize_video` for the options (`reference` may be any photo input here). Needs the
        [video] extra."""
        from .video.convert import colorize_video

        return colorize_video(self, src, dst, stabilize=stabilize, **self._with_reference(kwargs))

    def colorize_frames(self, frames: Iterable, stabilize: bool = True, **kwargs):
        """Frames (PIL images or uint8 arrays) in display order -> colour (H, W, 3) uint8 frames, lazily; see
        `autocolor.video.colorize_frames`. Needs the [video] extra."""
        from .video.frames import colorize_frames

        return colorize_frames(self, frames, stabilize=stabilize, **self._with_reference(kwargs))

    def _with_reference(self, kwargs: dict) -> dict:
        if kwargs.get("reference") is not None:
            return {**kwargs, "reference": self.reference(kwargs["reference"], kwargs.get("render_size"))}
        return kwargs

    def load(self, image: ImageInput) -> LoadedImage:
        if isinstance(image, LoadedImage):
            return image
        if isinstance(image, Image.Image):
            return from_pil(image)
        if isinstance(image, np.ndarray):
            return from_array(image)
        return load_image(image, self.max_pixels)

    def colorize_loaded(
        self,
        images: Iterable[LoadedImage],
        render_size: int | None = None,
        batch_size: int = 8,
        hints: Sequence[Sequence[HintLike]] | None = None,
        vividness: float | None = None,
        reference: Reference | None = None,
    ) -> list[LoadedImage]:
        """Colorize loaded images, `batch_size` at a time (memory stays bounded however many are given);
        within a chunk, images whose render shapes agree share one forward pass. `hints[i]`: image i's hints;
        `reference` (from `self.reference`) colours them all; each result's `reference_confidence` says how much matched."""
        images = list(images)
        hints = list(hints) if hints is not None else [[] for _ in images]
        if len(hints) != len(images):
            raise ValueError(f"{len(hints)} hint lists for {len(images)} images")
        checked = [self.check_hints(h, self.load(im)) for h, im in zip(hints, images, strict=True)]
        if vividness is not None:
            self.check_vividness(vividness)
        out: list[LoadedImage] = []
        for start in range(0, len(images), batch_size):
            chunk = zip(images[start : start + batch_size], checked[start : start + batch_size], strict=True)
            prepared = [self.prepare(im, render_size, h, reference) for im, h in chunk]
            predicted = self.predict_ab(prepared, vividness)
            for p, ab in zip(prepared, predicted, strict=True):
                out.append(self.compose(p, self.spread_hints(p, ab)))
                if p.match is not None:
                    out[-1].reference_confidence = p.match.confidence
        return out

    def prepare(
        self,
        image: ImageInput,
        render_size: int | None = None,
        hints: Sequence[HintLike] = (),
        reference: Reference | None = None,
    ) -> Prepared:
        """An image -> its lightness at full resolution and at render size (long side `render_size`), with its
        checked colour hints and the reference to match (from `self.reference`)."""
        image = self.load(image)
        hints = self.check_hints(hints, image)
        size = self.render_size if render_size is None else check_render_size(render_size)
        H, W = image.rgb.shape[:2]
        scale = size / max(H, W)
        h, w = max(1, round(H * scale)), max(1, round(W * scale))
        plane = shared_plane(image.rgb)  # a gray photo: keep its levels, not a float per pixel
        fy, small = lightness(image.rgb, (w, h), keep=plane is None)
        p = Prepared(fy, small, image.alpha, image.path, hints, reference)
        if plane is not None:
            p.fy, p.plane, p.lut = None, plane, gray_fy()
        return p

    def predict_ab(self, prepared: Sequence[Prepared], vividness: float | None = None) -> list[np.ndarray]:
        """Run the network: each photo's ab at render size, (2, h, w) float32 in [-1, 1], the network's own
        output (chroma gain not yet applied), at `vividness` (default: this Colorizer's) for a colour-class
        model. Photos whose padded shapes agree share one forward pass. A photo with a reference is matched to
        it here, from the same pass (`Prepared.match`)."""
        temperature = self._temperature(vividness)
        groups: dict[tuple[int, int], list[int]] = {}
        inputs = [self.network_input(p.small, p.hints, p.shape) for p in prepared]
        for i, x in enumerate(inputs):
            groups.setdefault(x.shape[-2:], []).append(i)
        out: list[np.ndarray] = [None] * len(prepared)  # type: ignore[list-item]
        for members in groups.values():
            features = any(prepared[i].reference is not None for i in members)
            result = self.backend.network(np.stack([inputs[i] for i in members]), temperature, features)
            preds, feats = result if features else (result, [None] * len(members))
            for i, pred, feat in zip(members, preds, feats, strict=True):
                p = prepared[i]
                h, w = p.small.shape
                out[i] = pred[:, :h, :w]
                if p.reference is not None:
                    p.match = match(p.reference, feat, fy_to_L(p.small))
        return out

    def _temperature(self, vividness: float | None) -> float | None:
        if not self.has_classes:
            return None
        return vividness_to_temperature(self.vividness if vividness is None else vividness)

    def spread_hints(self, prepared: Prepared, ab: np.ndarray) -> np.ndarray:
        """ab at render size (from `predict_ab`) with the colours the photo matched in its reference, then its
        hints (which win where both speak), spread along its lightness (see propagate.py and reference.py);
        the hints only where the model's `hint_sigma_s` asks for it; unchanged without either."""
        L = fy_to_L(prepared.small)
        if prepared.match is not None:
            ab = take_colours(ab, L, prepared.match)
        sigma_s, sigma_r, reach = self.hint_spread
        if not prepared.hints or sigma_s <= 0:
            return ab
        h, w = prepared.small.shape
        raster = hint_raster(prepared.hints, prepared.shape[1], prepared.shape[0], (h, w))
        return propagate_hints(ab, L, raster, sigma_s, sigma_r, reach)

    def compose(self, prepared: Prepared, ab: np.ndarray, guide_radius: int | None = None) -> LoadedImage:
        """Full-res lightness + ab at render size (as from `predict_ab`) -> colour photo, strip by strip."""
        radius = self.guide_radius if guide_radius is None else guide_radius
        H, W = prepared.shape
        coef = self.backend.guide(
            ab, prepared.small, self.chroma_gain, radius, self.guide_eps, np.empty(W, np.float32)
        )
        out = np.empty((H, W, 4), dtype=np.uint8)  # RGBX, as Pillow keeps RGB (see io.to_pil)

        def strip(rows: slice) -> None:
            linear_to_srgb(self.backend.compose(prepared.fy_rows(rows), coef, rows.start, H), out=out[rows])

        run_strips(strip, H, W)
        return LoadedImage(out[..., :3], prepared.alpha, prepared.path)

    def lightness(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 sRGB -> fy = (L + 16) / 116 (H, W) float32, strip by strip (gray strips read one
        channel)."""
        return lightness(rgb)[0]

    def gray(self, rgb: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 -> the gray the network sees: its Lab lightness with a = b = 0, as sRGB uint8."""
        fy = self.lightness(rgb)
        one = np.ones((1, 1), dtype=np.float32)  # ab = 0 everywhere: a 1x1 render is enough
        return self.compose(Prepared(fy, one), np.zeros((2, 1, 1), np.float32), guide_radius=0).rgb

    def network_input(
        self, small: np.ndarray, hints: Sequence[Hint] = (), full: tuple[int, int] | None = None
    ) -> np.ndarray:
        """fy at render size (h, w) -> network input (C, Hp, Wp): L / 50 - 1 in channel 0, sides padded to the
        network's multiple by repeating the edge; for a hint generator, then the hint raster of `hints`
        (points in the (H, W) = `full` image's pixels, see `hints.hint_raster`), zero without hints."""
        L = fy_to_network(small)
        h, w = L.shape
        m = self.multiple
        L = np.pad(L, ((0, -h % m), (0, -w % m)), mode="edge")
        x = np.zeros((self.in_channels, *L.shape), dtype=np.float32)
        x[0] = L
        if self.network_hints and hints:
            H, W = full or (h, w)
            x[1:4] = hint_raster(hints, W, H, (h, w), L.shape)
        return x

    @staticmethod
    def _to_pil(image: LoadedImage) -> Image.Image:
        out = to_pil(image.rgb)
        if image.alpha is not None:
            out.putalpha(Image.fromarray(image.alpha, "L"))
        return out.convert("RGB") if out.mode == "RGBX" else out
