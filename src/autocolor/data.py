"""Training data: a folder of colour photos (or pix2pix A|B pairs) -> random crops as RGB uint8.

Items are addressed as (index, seed): the seed fixes that sample's crop, scale and flip, so a run gives the
same batches whatever the number of workers, and a resumed run continues with exactly the batches it would
have seen. Lab conversion happens batched on the training device (see `color.rgb_to_model`), not here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, Sampler

from .io import ImageError, list_images, load_image

log = logging.getLogger("autocolor.data")

GRAY_TOLERANCE = 6  # max |R-G|, |G-B| (JPEG noise included) for a photo to count as already gray


@dataclass
class ScanResult:
    photos: list[Path] = field(default_factory=list)
    pairs: list[bool] = field(default_factory=list)  # True where the file is a gray|colour A|B pair
    gray: list[Path] = field(default_factory=list)
    bad: list[tuple[Path, str]] = field(default_factory=list)


def _is_gray(rgb: np.ndarray) -> bool:
    rgb = rgb.astype(np.int16)
    return (
        max(np.abs(rgb[..., 0] - rgb[..., 1]).max(), np.abs(rgb[..., 1] - rgb[..., 2]).max())
        <= GRAY_TOLERANCE
    )


def _looks_like_pair(rgb: np.ndarray) -> bool:
    h, w = rgb.shape[:2]
    return w == 2 * h and _is_gray(rgb[:, : w // 2]) and not _is_gray(rgb[:, w // 2 :])


def find_photos(root: str | os.PathLike, data_format: str = "auto") -> ScanResult:
    """Classify every image under root: usable photo (or A|B pair), already gray (skipped), unreadable."""
    if data_format not in ("auto", "photos", "pairs"):
        raise ValueError(f"unknown data_format '{data_format}'; choose one of auto, photos, pairs")
    files = list_images(root)
    result = ScanResult()

    def classify(path: Path):
        try:
            rgb = load_image(path, reduce=8).rgb
        except ImageError as e:
            return path, None, e.reason
        return path, rgb, ""

    with ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as pool:
        for path, rgb, reason in pool.map(classify, files):
            if rgb is None:
                result.bad.append((path, reason))
                continue
            pair = data_format == "pairs" or (data_format == "auto" and _looks_like_pair(rgb))
            if _is_gray(rgb[:, rgb.shape[1] // 2 :] if pair else rgb):
                result.gray.append(path)
                continue
            result.photos.append(path)
            result.pairs.append(pair)
    return result


def _resize_short(im: Image.Image, short: int) -> Image.Image:
    w, h = im.size
    scale = short / min(w, h)
    size = (max(short, round(w * scale)), max(short, round(h * scale)))
    return im.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


class PhotoDataset(Dataset):
    """Colour photos under `root` -> {"rgb": (size, size, 3) uint8 tensor, "index": int}.

    train=True: random rescale (short side = size * U(scale_min, scale_max)), random crop, random h-flip.
    train=False: resize the short side to `size`, centre crop. Index items by (index, seed) or by index.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        size: int,
        train: bool = True,
        scale_min: float = 1.0,
        scale_max: float = 1.25,
        flip: bool = True,
        data_format: str = "auto",
        cache: bool = False,
        limit: int | None = None,
        verbose: bool = True,
    ):
        self.root, self.size, self.train = Path(root), size, train
        self.scale_min, self.scale_max, self.flip = scale_min, scale_max, flip
        found = find_photos(root, data_format)
        if verbose:
            for path, reason in found.bad:
                log.warning("skipping %s: %s", path, reason)
        self.paths, self.pairs = found.photos[:limit], found.pairs[:limit]
        self.skipped_gray, self.skipped_bad = len(found.gray), len(found.bad)
        if not self.paths:
            raise ValueError(
                f"{root}: no usable colour photos ({self.skipped_gray} gray, {self.skipped_bad} unreadable)"
            )
        self._warned: set[int] = set()
        self._cache: list[Image.Image] | None = None
        if cache:
            with ThreadPoolExecutor(max(1, os.cpu_count() or 1)) as pool:
                self._cache = list(pool.map(self._decode, range(len(self.paths))))

    def __len__(self) -> int:
        return len(self.paths)

    def describe(self) -> str:
        kind = "A|B pairs" if all(self.pairs) else "photos"
        return f"{len(self)} {kind} in {self.root} ({self.skipped_gray} gray and {self.skipped_bad} unreadable skipped)"

    def _decode(self, i: int) -> Image.Image:
        """Photo i as an RGB PIL image, its colour half for pairs, reduced to what training can use."""
        rgb = load_image(self.paths[i]).rgb
        if self.pairs[i]:
            rgb = rgb[:, rgb.shape[1] // 2 :]
        im = Image.fromarray(rgb)
        short = int(np.ceil(self.size * (self.scale_max if self.train else 1.0)))
        return _resize_short(im, short) if min(im.size) > short else im

    def _crop(self, im: Image.Image, rng: np.random.Generator | None) -> np.ndarray:
        s = self.size
        if rng is None:
            im = _resize_short(im, s)
            left, top = (im.width - s) // 2, (im.height - s) // 2
        else:
            im = _resize_short(im, int(round(s * rng.uniform(self.scale_min, self.scale_max))))
            left, top = int(rng.integers(0, im.width - s + 1)), int(rng.integers(0, im.height - s + 1))
        rgb = np.array(im.crop((left, top, left + s, top + s)))
        if rng is not None and self.flip and rng.random() < 0.5:
            rgb = rgb[:, ::-1]
        return np.ascontiguousarray(rgb)

    def __getitem__(self, item: int | tuple[int, int]) -> dict:
        index, seed = item if isinstance(item, tuple) else (item, 0)
        rng = np.random.default_rng(seed) if self.train else None
        for attempt in range(len(self.paths)):  # a file that breaks mid-run is replaced, never fatal
            i = (index + attempt) % len(self.paths)
            try:
                im = self._cache[i] if self._cache is not None else self._decode(i)
                return {"rgb": torch.from_numpy(self._crop(im, rng)), "index": i, "seed": seed}
            except ImageError as e:
                if i not in self._warned:
                    self._warned.add(i)
                    log.warning("skipping %s", e)
        raise RuntimeError(f"{self.root}: no photo could be read")


class EpochSampler(Sampler):
    """Yields (index, seed) for one epoch of one rank, from a permutation fixed by (seed, epoch).

    `start` skips the first samples of the epoch (exact resume). With world_size > 1 the permutation is
    padded to a multiple of world_size and sharded by rank, as DistributedSampler does.
    """

    def __init__(self, n: int, seed: int = 0, rank: int = 0, world_size: int = 1):
        self.n, self.seed, self.rank, self.world_size = n, seed, rank, world_size
        self.epoch, self.start = 0, 0

    def _shard(self) -> list[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        perm = torch.randperm(self.n, generator=g).tolist()
        total = -(-self.n // self.world_size) * self.world_size
        perm += perm[: total - self.n]
        return perm[self.rank :: self.world_size]

    def __len__(self) -> int:
        return -(-self.n // self.world_size) - self.start

    def __iter__(self) -> Iterator[tuple[int, int]]:
        shard = self._shard()
        for pos in range(self.start, len(shard)):
            yield shard[pos], hash((self.seed, self.epoch, self.rank, pos)) & 0x7FFFFFFF
