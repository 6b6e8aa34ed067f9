"""Files on disk: pretrained generators (config.json + model.safetensors) and training checkpoints.

Every write is atomic: files go to a temporary name first and are moved into place with os.replace, so a
run killed mid-write leaves the previous checkpoint intact. A failed save raises; it is never swallowed.
"""

from __future__ import annotations

import os
import pickle
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save

from .atomic import atomic_open, publish
from .model_folder import WEIGHTS_NAME, read_config, resolve, with_overrides, write_card, write_config
from .models import UNet, build_generator


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
    write_config(directory, unwrap(model).config)
    save_tensors(model, directory / WEIGHTS_NAME, dtype)
    return directory


def load_pretrained(directory: str | os.PathLike, map_location: str | torch.device = "cpu") -> UNet:
    """Rebuild the generator of a model folder (or Hub id) from `config.json` and load its weights strictly;
    eval mode."""
    directory = resolve(directory)
    config = read_config(directory)
    if not (directory / WEIGHTS_NAME).is_file():
        raise FileNotFoundError(
            f"{directory}: no {WEIGHTS_NAME} (expected a folder written by save_pretrained or "
            "a training run's generator/ folder)"
        )
    model = build_generator(config)
    load_tensors(model, directory / WEIGHTS_NAME)
    return model.to(map_location).eval()


def export_pretrained(
    src: str | os.PathLike, dst: str | os.PathLike, half: bool = True, **config_overrides: Any
) -> Path:
    """Copy a generator folder, optionally storing its weights as float16 and changing colorizing defaults
    (e.g. render_size, chroma_gain) in its config.json; with a model card, ready to push to a hub."""
    model = load_pretrained(src)
    model.config = with_overrides(model.config, **config_overrides)
    out = save_pretrained(model, dst, torch.float16 if half else None)
    write_card(out, model.config)
    return out


# --- training checkpoints: checkpoints/step_0001000/{generator,discriminator,ema}.safetensors + state.pt


def _step_of(path: Path) -> int | None:
    name = path.name
    return int(name[5:]) if name.startswith("step_") and name[5:].isdigit() else None


def checkpoints(root: Path) -> list[tuple[int, Path]]:
    """The complete checkpoint folders under `root` as (step, path), by step number."""
    found = []
    for p in root.glob("step_*") if root.is_dir() else []:
        step = _step_of(p)
        if step is not None and (p / "state.pt").is_file():
            found.append((step, p))
    return sorted(found)


def save_checkpoint(
    root: Path, step: int, models: dict[str, torch.nn.Module], state: dict[str, Any], keep: int = 2
) -> Path:
    """Write one checkpoint folder atomically, point `root/latest` at it, prune to the newest `keep` by step.

    Saving a step again is safe too: the new folder is written completely, the old one moved aside, the new
    one moved in, and only then the old one deleted; a crash in between leaves both on disk (the old one as
    .step_*.old) and `latest_checkpoint` falls back to the highest complete step."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step_{step:08d}"
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{final.name}.", suffix=".part"))
    old = None
    try:
        for name, model in models.items():
            save_tensors(model, tmp / f"{name}.safetensors")
        with atomic_open(tmp / "state.pt", fsync=True) as f:
            torch.save(state, f)
        if final.exists():  # moved aside, not deleted, until the new folder is in place
            old = Path(tempfile.mkdtemp(dir=root, prefix=f".{final.name}.", suffix=".old"))
            os.replace(final, old)
        publish(tmp, final, 0o777)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not final.exists():
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    atomic_write_bytes(root / "latest", final.name.encode())
    for _, stale in checkpoints(root)[:-keep] if keep > 0 else []:
        if stale != final:
            shutil.rmtree(stale, ignore_errors=True)
    return final


def latest_checkpoint(root: Path) -> Path | None:
    """The folder `root/latest` names; if it is missing or incomplete, the highest complete step."""
    pointer = root / "latest"
    if pointer.is_file():
        path = root / pointer.read_text().strip()
        if (path / "state.pt").is_file():
            return path
    found = checkpoints(root)
    return found[-1][1] if found else None


def _legacy_numpy_globals() -> list:
    """What checkpoints of autocolor 0.1.0 pickled besides tensors: NumPy's RNG state (an array)."""
    core = getattr(np, "_core", None) or np.core
    return [core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def checkpoint_state(path: Path) -> dict[str, Any]:
    """The training state of a checkpoint folder, loaded with weights_only=True (tensors and plain values;
    for 0.1.0's checkpoints, NumPy arrays are allowed too, process-wide, from then on)."""
    try:
        return torch.load(path / "state.pt", map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        torch.serialization.add_safe_globals(_legacy_numpy_globals())
        return torch.load(path / "state.pt", map_location="cpu", weights_only=True)


def load_weights(path: Path, models: dict[str, torch.nn.Module]) -> None:
    for name, model in models.items():
        load_tensors(model, path / f"{name}.safetensors")


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
    keys = keys.numpy() if isinstance(keys, torch.Tensor) else np.asarray(keys)  # 0.1.0 stored the array
    np.random.set_state((name, keys.astype(np.uint32), pos, has_gauss, cached))
    version, internal, gauss = rng["python"]
    random.setstate((version, tuple(internal), gauss))
    if rng["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
