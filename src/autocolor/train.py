"""Training loop: data, the pix2pix step, checkpoints, resume, validation and logging over a run folder.

Run directory layout:
    config.json          the resolved config
    checkpoints/         step_XXXXXXXX/{generator,discriminator[,ema]}.safetensors + state.pt, and `latest`
    samples/             gray | output | truth grids from validation
    metrics.jsonl        one JSON object per record (see sinks.py)
    generator/           config.json + model.safetensors of the final generator (EMA weights when enabled)
    best/                the same for the validation step with the best score (see metrics.score)

The pieces: runtime.py (processes, seeds, signals), pix2pix.py (networks and the update), checkpoint.py
(files and RNG state), validation.py (the Colorizer's colour path), sinks.py (where records go).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from . import __version__
from .checkpoint import (
    capture_rng,
    checkpoint_state,
    load_weights,
    restore_rng,
    save_checkpoint,
    save_pretrained,
)
from .color_classes import gamut_bins, photo_counts
from .config import Config
from .data import EpochSampler, PhotoDataset
from .io import save_image
from .models import UNet
from .pix2pix import Pix2PixStep
from .progress import ProgressBar
from .runfolder import RunFolderError, check_run_folder, open_run_folder, resume_changes, trim_metrics
from .runtime import Distributed, StopRequest, seed_everything, stop_signals_blocked
from .sinks import Sink, default_sinks
from .validation import VAL_HINTS, validate, validation_photos

log = logging.getLogger("autocolor.train")


class Trainer:
    """Train `config` on the photos in `data` into the run folder `out` (validating on `val` if given)."""

    def __init__(
        self,
        config: Config,
        data: str | os.PathLike,
        out: str | os.PathLike,
        val: str | os.PathLike | None = None,
        resume: bool = False,
        progress: bool = True,
        sinks: Sequence[Sink] = (),
        overwrite: bool = False,
    ):
        """A new run needs an empty (or absent) `out`, or `overwrite` to move the old run aside; `resume`
        continues the checkpoint in `out`, refusing config changes that would break the exact resume.
        `sinks` receive every record besides metrics.jsonl (see sinks.py)."""
        config.check()
        self.cfg, tc = config, config.train
        self.out = Path(out)
        self.dist = Distributed(tc.device)
        checkpoint = check_run_folder(self.out, resume, overwrite)
        self.device = self.dist.device
        self.dataset = PhotoDataset(
            data,
            tc.size,
            True,
            tc.scale_min,
            tc.scale_max,
            tc.flip,
            tc.data_format,
            tc.cache_images,
            verbose=self.dist.main,
        )
        if len(self.dataset) < tc.batch_size * self.dist.world_size:
            raise ValueError(
                f"{data}: {len(self.dataset)} photos are fewer than one batch "
                f"({tc.batch_size} x {self.dist.world_size} processes)"
            )
        counts = None
        if config.generator.classes and checkpoint is None:  # a resumed run loads them with the weights
            counts = photo_counts(
                (self.dataset[(i, i)]["rgb"] for i in range(len(self.dataset))), gamut_bins()
            )
        seed_everything(tc.seed)  # the same initial weights on every rank
        self.pix2pix = Pix2PixStep(config, self.device, self.dist.enabled, counts)
        seed_everything(tc.seed + 7919 * self.dist.rank)  # distinct dropout streams per rank
        self.epoch, self.epoch_pos = 0, 0
        self.best_score = -math.inf
        self.progress = progress and self.dist.main
        self.sampler = EpochSampler(len(self.dataset), tc.seed, self.dist.rank, self.dist.world_size)
        self.val_photos = None
        if val is not None and self.dist.main:
            self.val_photos = validation_photos(val, tc.data_format, tc.val_limit)
        changes = self._resume(checkpoint) if checkpoint is not None else {}
        self.dist.barrier()  # every rank has checked before the main one changes anything
        self.sinks: list[Sink] = []
        if self.dist.main:
            if checkpoint is None:
                open_run_folder(self.out, overwrite)
            try:
                dropped = trim_metrics(self.out / "metrics.jsonl", self.step)
                config.save(self.out / "config.json")
            except OSError as e:
                raise RunFolderError(f"{self.out}: cannot write the run folder ({e.strerror})") from e
            if dropped:
                log.info("dropped %d metrics.jsonl records past step %d", dropped, self.step)
            self.sinks = [*default_sinks(self.out, self.step), *sinks]
            if changes:
                self.log({"step": self.step, "kind": "resume", "changed": changes})
            log.info("data: %s", self.dataset.describe())
        self.dist.barrier()

    @property
    def step(self) -> int:
        return self.pix2pix.step

    # --- checkpoints -----------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            **self.pix2pix.state_dict(),
            "epoch": self.epoch,
            "epoch_pos": self.epoch_pos,
            "best_score": self.best_score,
            "rng": capture_rng(),
            "version": __version__,
            "config": self.cfg.to_dict(),
            "world_size": self.dist.world_size,
        }

    def save_checkpoint(self) -> Path | None:
        path = None
        if self.dist.main:
            path = save_checkpoint(
                self.out / "checkpoints",
                self.step,
                self.pix2pix.models(),
                self._state(),
                self.cfg.train.keep_checkpoints,
            )
        self.dist.barrier()
        return path

    def _resume(self, path: Path) -> dict[str, list]:
        """Continue from the checkpoint folder `path`; returns the allowed config changes."""
        state = checkpoint_state(path)
        changes = resume_changes(state["config"], self.cfg, path)
        if state["world_size"] != self.dist.world_size:
            raise RunFolderError(
                f"{path}: written by {state['world_size']} processes, resumed with "
                f"{self.dist.world_size}; resume with the same number"
            )
        if self.cfg.train.steps < state["step"]:
            raise RunFolderError(
                f"{path}: train.steps {self.cfg.train.steps} is before the checkpoint's step {state['step']}; "
                "ask for at least that many"
            )
        load_weights(path, self.pix2pix.models())
        self.pix2pix.load_state_dict(state)
        self.epoch, self.epoch_pos = state["epoch"], state["epoch_pos"]
        self.best_score = state["best_score"]
        if self.dist.main:  # the checkpoint holds rank 0's generators
            restore_rng(state["rng"])
        else:  # other ranks: a fresh, distinct stream per (rank, step)
            seed_everything(self.cfg.train.seed + 7919 * self.dist.rank + self.step)
        if self.dist.main:
            log.info("resumed from %s at step %d", path, self.step)
            for key, (old, new) in changes.items():
                log.info("%s changed from %r to %r", key, old, new)
        return changes

    # --- loop ------------------------------------------------------------------------------------------
    def _loader(self) -> DataLoader:
        tc = self.cfg.train
        return DataLoader(
            self.dataset,
            batch_size=tc.batch_size,
            sampler=self.sampler,
            drop_last=True,
            num_workers=tc.num_workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
            generator=torch.Generator().manual_seed(tc.seed),
            prefetch_factor=4 if tc.num_workers > 0 else None,
        )

    def fit(self) -> str:
        """Train to `train.steps`. Returns 'done' or 'interrupted' (a checkpoint is written either way)."""
        tc = self.cfg.train
        bar = ProgressBar(tc.steps, self.step, tc.batch_size * self.dist.world_size, self.progress)
        status = "done"
        with StopRequest(announce=self.dist.main) as stop:
            try:
                loader = self._loader()
                while self.step < tc.steps and status == "done":
                    self.sampler.epoch, self.sampler.start = self.epoch, self.epoch_pos
                    with stop_signals_blocked():  # workers start with them blocked and keep them so
                        batches = iter(loader)
                    for batch in batches:
                        logs = self.pix2pix.train_step(batch["rgb"], batch["seed"].tolist())
                        self.epoch_pos += tc.batch_size
                        bar.update(logs)
                        if self.step % tc.log_every == 0 or self.step == tc.steps:
                            self.log(
                                {"step": self.step, "kind": "train", "images_per_s": bar.images_per_s, **logs}
                            )
                        if tc.val_every and self.step % tc.val_every == 0:
                            self.validate()
                        if self.dist.any(stop.requested):
                            status = "interrupted"
                            break
                        if self.step % tc.checkpoint_every == 0 and self.step < tc.steps:
                            self.save_checkpoint()
                        if self.step >= tc.steps:
                            break
                    else:
                        self.epoch, self.epoch_pos = self.epoch + 1, 0
            finally:
                bar.close()
        self.save_checkpoint()
        if self.dist.main:
            save_pretrained(self.exported(), self.out / "generator")
            if status == "interrupted":
                log.warning("interrupted at step %d; checkpoint saved, continue with --resume", self.step)
        self.dist.barrier()
        return status

    def exported(self) -> UNet:
        """The generator to ship: the EMA weights when EMA is on."""
        return self.pix2pix.exported()

    def log(self, record: dict[str, Any]) -> None:
        """Hand one record to every sink (main process only)."""
        for sink in self.sinks:
            sink.write(record)

    def validate(self) -> dict[str, float] | None:
        """Validate the exported generator through the Colorizer's colour path; log, save the sample grid,
        and keep it as `best/` when its score is the best so far."""
        if self.val_photos is None:
            return None
        G = self.exported()
        result, grid = validate(G, self.val_photos, self.device, self.cfg.train.precision)
        self.log({"step": self.step, "kind": "val", **result})
        sample = Path("samples") / f"step_{self.step:08d}.png"
        save_image(self.out / sample, grid)
        self.log({"step": self.step, "kind": "sample", "path": str(sample), "image": grid})
        if result["score"] > self.best_score:
            self.best_score = result["score"]
            save_pretrained(G, self.out / "best")
        line = (
            f"step {self.step}: val psnr {result['psnr']:.2f} dB, colourfulness {result['colorfulness']:.1f} "
            f"({result['colorfulness_ratio']:.2f} of truth), l1 {result['l1']:.4f}"
        )
        if "psnr_hints" in result:
            line += f", psnr with {VAL_HINTS} hints {result['psnr_hints']:.2f} dB"
        log.info("%s", line)
        return result

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
        self.dist.close()


def train(config: Config, data: str | os.PathLike, out: str | os.PathLike, **options) -> str:
    """Train a colorizer on a folder of colour photos; `options` are `Trainer`'s (val, resume, overwrite...).
    Returns 'done' or 'interrupted'."""
    trainer = Trainer(config, data, out, **options)
    try:
        return trainer.fit()
    finally:
        trainer.close()
