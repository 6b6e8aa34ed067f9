"""Files on disk: pretrained generators (config.json + model.safetensors) and training checkpoints.

Every write is atomic: files go to a temporary name first and are moved into place with os.replace, so a
run killed mid-write leaves the previous checkpoint intact. A failed save raises; it is never swallowed.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save

from .config import GeneratorConfig, generator_config_from_dict
from .io import atomic_open, publish
from .models import UNet

CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module under DDP / torch.compile / AveragedModel wrappers (no 'module.' key prefixes)."""
    while True:
        inner = getattr(model, "module", None) or getattr(model, "_orig_mod", None)
        if inner is None:
            return model
        model = inner


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, fsync=True) as f:
        f.write(data)


def _state(model: torch.nn.Module, dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
    out = {}
    for k, v in unwrap(model).state_dict().items():
        v = v.detach().cpu()
        if dtype is not None and v.is_floating_point():
            v = v.to(dtype)
        out[k] = v.contiguous().clone()
    return out


def save_tensors(model: torch.nn.Module, path: Path, dtype: torch.dtype | None = None) -> None:
    atomic_write_bytes(path, save(_state(model, dtype)))


def load_tensors(model: torch.nn.Module, path: Path) -> None:
    """Strict load; half-precision files are cast to the model's dtype."""
    state = load_file(str(path))
    own = unwrap(model).state_dict()
    state = {k: v.to(own[k].dtype) if k in own else v for k, v in state.items()}
    unwrap(model).load_state_dict(state, strict=True)


def save_pretrained(model: UNet, directory: str | os.PathLike, dtype: torch.dtype | None = None) -> Path:
    """Write `config.json` + `model.safetensors` (optionally stored as `dtype`, e.g. torch.float16)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cfg = unwrap(model).config
    atomic_write_bytes(directory / CONFIG_NAME, (json.dumps(cfg.__dict__, indent=2) + "\n").encode())
    save_tensors(model, directory / WEIGHTS_NAME, dtype)
    return directory


def load_pretrained(directory: str | os.PathLike, map_location: str | torch.device = "cpu") -> UNet:
    """Rebuild the generator from `config.json` and load its weights strictly; eval mode."""
    directory = Path(directory)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (directory / name).is_file():
            raise FileNotFoundError(
                f"{directory}: no {name} (expected a folder written by save_pretrained or "
                "a training run's generator/ folder)"
            )
    cfg: GeneratorConfig = generator_config_from_dict(json.loads((directory / CONFIG_NAME).read_text()))
    model = UNet(cfg)
    load_tensors(model, directory / WEIGHTS_NAME)
    return model.to(map_location).eval()


def export_pretrained(
    src: str | os.PathLike, dst: str | os.PathLike, half: bool = True, **config_overrides: Any
) -> Path:
    """Copy a generator folder, optionally storing its weights as float16 and changing colorizing defaults
    (e.g. render_size, chroma_gain) in its config.json."""
    model = load_pretrained(src)
    for key, value in config_overrides.items():
        if not hasattr(model.config, key):
            raise ValueError(f"unknown generator config key '{key}'")
        setattr(model.config, key, value)
    return save_pretrained(model, dst, torch.float16 if half else None)


# --- training checkpoints: checkpoints/step_0001000/{generator,discriminator,ema}.safetensors + state.pt


def save_checkpoint(
    root: Path, step: int, models: dict[str, torch.nn.Module], state: dict[str, Any], keep: int = 2
) -> Path:
    """Write one checkpoint folder atomically, point `root/latest` at it, prune to the newest `keep`."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step_{step:08d}"
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{final.name}."))
    try:
        for name, model in models.items():
            save_tensors(model, tmp / f"{name}.safetensors")
        torch.save(state, tmp / "state.pt")
        if final.exists():
            shutil.rmtree(final)
        publish(tmp, final, 0o777)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    atomic_write_bytes(root / "latest", final.name.encode())
    for old in sorted(root.glob("step_*"))[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(root: Path) -> Path | None:
    pointer = root / "latest"
    if not pointer.is_file():
        return None
    path = root / pointer.read_text().strip()
    return path if (path / "state.pt").is_file() else None


def load_checkpoint(path: Path, models: dict[str, torch.nn.Module]) -> dict[str, Any]:
    for name, model in models.items():
        load_tensors(model, path / f"{name}.safetensors")
    return torch.load(path / "state.pt", map_location="cpu", weights_only=True)


def capture_rng() -> dict[str, Any]:
    """The global random generators' states (Python, NumPy, torch, CUDA) as tensors and plain values."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def restore_rng(rng: dict[str, Any]) -> None:
    """Undo `capture_rng`: the global generators continue exactly where they were captured."""
    torch.set_rng_state(rng["torch"])
    name, keys, pos, has_gauss, cached = rng["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = rng["python"]
    random.setstate((version, tuple(internal), gauss))
    if rng["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
