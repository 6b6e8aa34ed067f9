"""Run folders: start a run only into an empty folder (or move the old run aside), resume only from a real
checkpoint with a config that keeps the resume exact, and keep metrics.jsonl in step with the checkpoint."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from .atomic import atomic_open
from .checkpoint import latest_checkpoint
from .config import COLORIZING_DEFAULTS, Config

log = logging.getLogger("autocolor.runfolder")

# Settings a resumed run may change: they do not alter the updates already made nor the stream of batches
# and random numbers; they only extend or re-plan what comes next, or change what is logged and kept.
RESUMABLE = frozenset(
    {
        "train.steps",
        "train.decay_steps",
        "train.checkpoint_every",
        "train.keep_checkpoints",
        "train.val_every",
        "train.val_limit",
        "train.log_every",
        "train.num_workers",
        "train.cache_images",
        "train.init_generator",  # only read when a run starts
    }
    | {f"generator.{key}" for key in COLORIZING_DEFAULTS}  # how the network is used, not what it is
)


class RunFolderError(ValueError):
    """The run folder cannot be used as asked; the message names it and the fix."""


def _nonempty(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def _aside(out: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for i in range(1000):
        dest = out.with_name(f"{out.name}.old-{stamp}" + (f"-{i}" if i else ""))
        if not dest.exists():
            return dest
    raise RunFolderError(f"{out}: no free name to move the old run aside")


def check_run_folder(out: Path, resume: bool, overwrite: bool) -> Path | None:
    """Check, without changing anything, that `out` can take this run; returns the checkpoint to resume from."""
    if resume and overwrite:
        raise RunFolderError("--resume continues the run in --out and --overwrite moves it aside: choose one")
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"{out}: exists and is not a folder; choose another --out")
    if resume:
        ckpt = latest_checkpoint(out / "checkpoints")
        if ckpt is None:
            raise RunFolderError(
                f"{out}: no checkpoint to resume from (checkpoints/ is missing or empty); "
                "start a new run without --resume"
            )
        return ckpt
    if _nonempty(out) and not overwrite:
        raise RunFolderError(
            f"{out}: not empty (an earlier run?); continue it with --resume, choose another --out, "
            "or pass --overwrite to move the old one aside"
        )
    return None


def open_run_folder(out: Path, overwrite: bool) -> None:
    """Move an old run aside (with `overwrite`), create `out`, and make sure it can be written."""
    try:
        if overwrite and _nonempty(out):
            dest = _aside(out)
            out.rename(dest)
            log.info("moved the previous run in %s to %s", out, dest)
        out.mkdir(parents=True, exist_ok=True)
        with atomic_open(out / ".write-check"):
            pass
        (out / ".write-check").unlink()
    except OSError as e:
        raise RunFolderError(
            f"{out}: cannot write the run folder ({e.strerror}); choose another --out"
        ) from e


def _flat(d: dict[str, Any]) -> dict[str, Any]:
    return {f"{section}.{k}": v for section, values in d.items() for k, v in values.items()}


def resume_changes(saved: dict[str, Any], config: Config, where: Path) -> dict[str, list]:
    """Compare the checkpoint's config with this run's. Changes in RESUMABLE are returned as
    {key: [old, new]}; any other change raises, naming every differing key."""
    old = _flat(Config.from_dict(saved).to_dict())  # fills keys added since, with their defaults
    new = _flat(config.to_dict())
    changed = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
    refused = {k: v for k, v in changed.items() if k not in RESUMABLE}
    if refused:
        lines = "; ".join(f"{k}: {a!r} in the checkpoint, {b!r} now" for k, (a, b) in sorted(refused.items()))
        raise RunFolderError(
            f"{where}: resuming with these settings changed would not continue the same run: {lines}. "
            f"Resume with the checkpoint's values, or start a new run (settings that may change: "
            f"{', '.join(sorted(RESUMABLE))})"
        )
    return changed


def trim_metrics(path: Path, step: int) -> int:
    """Drop the records past `step` (written after the checkpoint a run resumes from); returns how many."""
    if not path.is_file():
        return 0
    kept, dropped = [], 0
    for line in path.read_text().splitlines(keepends=True):
        try:
            late = json.loads(line).get("step", 0) > step
        except (ValueError, AttributeError, TypeError):
            late = False
        if late:
            dropped += 1
        else:
            kept.append(line)
    if dropped:
        with atomic_open(path) as f:
            f.write("".join(kept).encode())
    return dropped
