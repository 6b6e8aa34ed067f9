"""Trainer: pix2pix G/D updates, bf16 autocast, EMA, exact resume, DDP, validation and logging.

Run directory layout:
    config.json          the resolved config
    checkpoints/         step_XXXXXXXX/{generator,discriminator[,ema]}.safetensors + state.pt, and `latest`
    samples/             gray | output | truth grids from validation
    metrics.jsonl        one JSON object per log or validation event
    generator/           config.json + model.safetensors of the final generator (EMA weights when enabled)
    best/                the same for the validation step with the best score (see `score`)
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch.utils.data import DataLoader
from tqdm import tqdm

from . import __version__
from .checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    load_pretrained,
    save_checkpoint,
    save_pretrained,
    unwrap,
)
from .color import model_to_rgb, rgb_to_model, tensor_to_uint8
from .config import Config
from .data import EpochSampler, PhotoDataset
from .hint_sim import simulate_hints
from .io import save_image
from .losses import discriminator_loss, generator_adversarial_loss, reconstruction_loss
from .metrics import colorfulness, psnr
from .models import PatchGAN, UNet
from .models.unet import add_hint_inputs
from .precision import autocast


def score(val: dict[str, float]) -> float:
    """How `best/` is chosen: PSNR plus a reward for colourfulness up to that of the real photos (so a dull
    model cannot win on PSNR alone, and an over-saturated one gains nothing past the truth)."""
    return val["psnr"] + 5.0 * min(val["colorfulness_ratio"], 1.0)


VAL_HINTS = 10  # validation of a hint model also measures PSNR with this many simulated hints

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _ignore_stop_signals(_worker_id: int) -> None:
    """Data workers leave Ctrl-C / SIGTERM to the main process, which checkpoints and shuts them down."""
    for s in _STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


@contextlib.contextmanager
def _stop_signals_blocked():
    """Hold stop signals while data workers are forked, so none dies before it can ignore them."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Distributed:
    """torchrun's environment -> process group (gloo on CPU, nccl on CUDA)."""

    def __init__(self, device: str):
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.enabled = self.world_size > 1
        if device == "cuda":
            if not torch.cuda.is_available():
                raise ValueError("--device cuda was asked for but CUDA is not available")
            torch.cuda.set_device(self.local_rank)
            self.device = torch.device("cuda", self.local_rank)
        elif device == "cpu":
            self.device = torch.device("cpu")
        else:
            raise ValueError(f"unknown device '{device}'; choose cpu or cuda")
        if self.enabled and not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def any(self, flag: bool) -> bool:
        """True on every rank if `flag` is true on any rank."""
        if not self.enabled:
            return flag
        t = torch.tensor([float(flag)], device=self.device if self.device.type == "cuda" else "cpu")
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


class Trainer:
    def __init__(
        self,
        config: Config,
        data: str | os.PathLike | None,
        out: str | os.PathLike | None,
        val: str | os.PathLike | None = None,
        resume: bool = False,
        progress: bool = True,
    ):
        """`data=None, out=None` builds the networks and optimizers only (for `train_step` benchmarks)."""
        self.cfg, tc = config, config.train
        self.out = Path(out) if out is not None else None
        self.dist = _Distributed(tc.device)
        self.device = self.dist.device
        self._seed_everything(tc.seed)  # the same initial weights on every rank
        if tc.size % (2**config.generator.num_downs):
            raise ValueError(
                f"train.size {tc.size} must be a multiple of 2**generator.num_downs "
                f"= {2**config.generator.num_downs}"
            )
        self.G = UNet(config.generator).to(self.device)
        self.D = PatchGAN(config.discriminator).to(self.device)
        if tc.init_generator:
            self._init_generator(tc.init_generator)
        if tc.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=tc.lr, betas=(tc.beta1, tc.beta2), fused=True)
        self.opt_d = torch.optim.Adam(
            self.D.parameters(), lr=tc.lr_d or tc.lr, betas=(tc.beta1, tc.beta2), fused=True
        )
        decay = tc.decay_steps if tc.decay_steps is not None else tc.steps // 2
        lam = lambda step: 1.0 if step < tc.steps - decay else max(0.0, (tc.steps - step) / max(1, decay))  # noqa: E731
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, lam)
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, lam)
        self.G_train = DDP(self.G) if self.dist.enabled else self.G
        self.D_train = DDP(self.D) if self.dist.enabled else self.D
        self.ema = None
        if tc.ema_decay > 0:
            self.ema = AveragedModel(
                self.G, multi_avg_fn=get_ema_multi_avg_fn(tc.ema_decay), use_buffers=True
            )
        self._seed_everything(tc.seed + 7919 * self.dist.rank)  # distinct dropout streams per rank

        self.step, self.epoch, self.epoch_pos = 0, 0, 0
        self.best_score = -math.inf
        self.progress = progress and self.dist.main
        self._stop = False
        self.dataset = self.val_set = None
        if data is None:
            return
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
        self.sampler = EpochSampler(len(self.dataset), tc.seed, self.dist.rank, self.dist.world_size)
        if val is not None and self.dist.main:
            # validate at the size the colorizer renders at, on centre crops
            self.val_set = PhotoDataset(
                val, config.generator.render_size, False, data_format=tc.data_format, limit=tc.val_limit
            )
        if resume:
            self._resume()
        if self.dist.main:
            self.out.mkdir(parents=True, exist_ok=True)
            config.save(self.out / "config.json")
            print(f"data: {self.dataset.describe()}", file=sys.stderr)

    def _init_generator(self, path: str) -> None:
        """Start from a trained generator of the same architecture (colorizing defaults may differ)."""
        init = load_pretrained(path)
        mine, theirs = dict(self.cfg.generator.__dict__), dict(init.config.__dict__)
        for key in ("render_size", "chroma_gain", "hints"):
            mine.pop(key), theirs.pop(key)
        if mine != theirs or (init.config.hints and not self.cfg.generator.hints):
            raise ValueError(f"{path}: its generator config {init.config} differs from this run's")
        state = init.state_dict()
        if self.cfg.generator.hints and not init.config.hints:  # stage 2 of the paper: add hint inputs
            state = add_hint_inputs(state)
        self.G.load_state_dict(state)

    @classmethod
    def for_benchmark(cls, config: Config) -> Trainer:
        return cls(config, None, None, progress=False)

    # --- state -----------------------------------------------------------------------------------------
    def _seed_everything(self, seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def _models(self) -> dict[str, torch.nn.Module]:
        models = {"generator": self.G, "discriminator": self.D}
        if self.ema is not None:
            models["ema"] = self.ema.module
        return models

    def _state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "epoch": self.epoch,
            "epoch_pos": self.epoch_pos,
            "best_score": self.best_score,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "sched_g": self.sched_g.state_dict(),
            "sched_d": self.sched_d.state_dict(),
            "ema_n_averaged": self.ema.n_averaged.clone() if self.ema is not None else None,
            "rng": {
                "torch": torch.get_rng_state(),
                "numpy": np.random.get_state(),
                "python": random.getstate(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            },
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
                self._models(),
                self._state(),
                self.cfg.train.keep_checkpoints,
            )
        self.dist.barrier()
        return path

    def _resume(self) -> None:
        path = latest_checkpoint(self.out / "checkpoints")
        if path is None:
            if self.dist.main:
                print(f"no checkpoint in {self.out / 'checkpoints'}; starting a new run", file=sys.stderr)
            return
        state = load_checkpoint(path, self._models())
        if state["world_size"] != self.dist.world_size:
            raise ValueError(
                f"{path}: written by {state['world_size']} processes, resumed with "
                f"{self.dist.world_size}; resume with the same number"
            )
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])
        if self.ema is not None and state["ema_n_averaged"] is not None:
            self.ema.n_averaged.copy_(state["ema_n_averaged"])
        self.step, self.epoch, self.epoch_pos = state["step"], state["epoch"], state["epoch_pos"]
        self.best_score = state["best_score"]
        rng = state["rng"]
        if self.dist.rank == 0 or not self.dist.enabled:
            torch.set_rng_state(rng["torch"])
            np.random.set_state(rng["numpy"])
            random.setstate(rng["python"])
            if rng["cuda"] is not None and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(rng["cuda"])
        else:  # other ranks: a fresh, distinct stream per (rank, step)
            self._seed_everything(self.cfg.train.seed + 7919 * self.dist.rank + self.step)
        if self.dist.main:
            print(f"resumed from {path} at step {self.step}", file=sys.stderr)

    # --- one step --------------------------------------------------------------------------------------
    def _to_model(self, rgb_uint8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rgb = rgb_uint8.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
        with torch.no_grad():
            L, ab = rgb_to_model(rgb)
        if self.cfg.train.channels_last:
            L, ab = (
                L.contiguous(memory_format=torch.channels_last),
                ab.contiguous(memory_format=torch.channels_last),
            )
        return L, ab

    def generator_input(
        self, L: torch.Tensor, ab: torch.Tensor, seeds: list[int], count: int | None = None
    ) -> torch.Tensor:
        """What G sees: L, then (with `generator.hints`) hints simulated from the truth ab by each sample's
        seed (`count` fixes how many, else the training distribution of autocolor.hint_sim)."""
        if not self.cfg.generator.hints:
            return L
        return torch.cat([L, simulate_hints(ab.float(), seeds, count).to(L.dtype)], dim=1)

    def train_step(self, rgb_uint8: torch.Tensor, seeds: list[int] | None = None) -> dict[str, float]:
        """One G (and, past pretrain_steps, D) update on a batch of RGB uint8 crops (B, H, W, 3); `seeds`
        (the samples' data seeds) drive the simulated hints."""
        tc = self.cfg.train
        L, ab = self._to_model(rgb_uint8)
        if seeds is None:
            seeds = [self.step * len(L) + i for i in range(len(L))]
        adversarial = self.step >= tc.pretrain_steps and tc.gan_weight > 0
        logs: dict[str, float] = {}
        with autocast(self.device, tc.precision):
            fake = self.G_train(self.generator_input(L, ab, seeds))
        loss_adv = torch.zeros((), device=self.device)
        if adversarial:
            self.D.requires_grad_(True)
            with autocast(self.device, tc.precision):  # real and fake pairs in one forward pass
                logits = self.D_train(torch.cat([L, L]), torch.cat([ab, fake.detach()]))
            real_logits, fake_logits = logits.chunk(2)
            loss_d = discriminator_loss(real_logits, fake_logits, tc.gan_mode)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            self.D.requires_grad_(False)
            with autocast(self.device, tc.precision):
                loss_adv = generator_adversarial_loss(self.D(L, fake), tc.gan_mode)
            logs.update(
                loss_d=loss_d.item(),
                d_real=real_logits.float().mean().item(),
                d_fake=fake_logits.float().mean().item(),
                loss_g_adv=loss_adv.item(),
            )
        loss_rec = reconstruction_loss(fake, ab, tc.recon_loss)
        loss_g = tc.lambda_l1 * loss_rec + (tc.gan_weight * loss_adv if adversarial else 0.0)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.sched_g.step()
        if adversarial:
            self.sched_d.step()
        else:  # keep D's schedule in step with G's while it waits
            self.sched_d.last_epoch += 1
        if self.ema is not None:
            self.ema.update_parameters(self.G)
        self.step += 1
        logs.update(loss_rec=loss_rec.item(), loss_g=loss_g.item(), lr=self.sched_g.get_last_lr()[0])
        return logs

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

    def _on_signal(self, signum, frame) -> None:
        if self._stop:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self._stop = True
        if self.dist.main:
            tqdm.write(f"signal {signum}: saving a checkpoint and stopping after this step", file=sys.stderr)

    def fit(self) -> str:
        """Train to `train.steps`. Returns 'done' or 'interrupted' (a checkpoint is written either way)."""
        tc = self.cfg.train
        handlers = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        bar = tqdm(
            total=tc.steps,
            initial=self.step,
            disable=not self.progress,
            unit="step",
            file=sys.stderr,
            dynamic_ncols=True,
        )
        status, t0, seen = "done", time.perf_counter(), 0
        try:
            loader = self._loader()
            while self.step < tc.steps and status == "done":
                self.sampler.epoch, self.sampler.start = self.epoch, self.epoch_pos
                with _stop_signals_blocked():  # workers start with them blocked, then ignore them
                    batches = iter(loader)
                for batch in batches:
                    logs = self.train_step(batch["rgb"], batch["seed"].tolist())
                    self.epoch_pos += tc.batch_size
                    seen += tc.batch_size * self.dist.world_size
                    bar.update()
                    if self.step % tc.log_every == 0 or self.step == tc.steps:
                        rate = seen / (time.perf_counter() - t0)
                        bar.set_postfix(
                            img_s=f"{rate:.1f}",
                            l1=f"{logs['loss_rec']:.4f}",
                            d=f"{logs.get('loss_d', float('nan')):.3f}",
                        )
                        self._log({"step": self.step, "kind": "train", "images_per_s": rate, **logs})
                    if tc.val_every and self.step % tc.val_every == 0:
                        self.validate()
                    if self.dist.any(self._stop):
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
            for s, h in handlers.items():
                signal.signal(s, h)
        self.save_checkpoint()
        if self.dist.main:
            save_pretrained(self.exported(), self.out / "generator")
            if status == "interrupted":
                print(
                    f"interrupted at step {self.step}; checkpoint saved, continue with --resume",
                    file=sys.stderr,
                )
        self.dist.barrier()
        return status

    def exported(self) -> UNet:
        """The generator to ship: the EMA weights when EMA is on."""
        return unwrap(self.ema) if self.ema is not None else self.G

    def _log(self, record: dict[str, Any]) -> None:
        if self.dist.main:
            with open(self.out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")

    @torch.no_grad()
    def validate(self) -> dict[str, float] | None:
        """L1 (ab, model scale), PSNR (RGB) and colourfulness on the val set; writes a sample grid."""
        if self.val_set is None:
            return None
        G = self.exported()
        was_training = G.training
        G.eval()
        l1, psnrs, cf_out, cf_true, rows, hinted = [], [], [], [], [], []
        for i in range(len(self.val_set)):
            rgb = self.val_set[i]["rgb"][None]
            L, ab = self._to_model(rgb)
            with autocast(self.device, self.cfg.train.precision):
                pred = G(self.generator_input(L, ab, [i], count=0)).float()
                if self.cfg.generator.hints:
                    with_hints = G(self.generator_input(L, ab, [i], count=VAL_HINTS)).float()
                    hinted.append(
                        psnr(tensor_to_uint8(model_to_rgb(L.float(), with_hints))[0], rgb[0].numpy())
                    )
            l1.append((pred - ab).abs().mean().item())
            out = tensor_to_uint8(model_to_rgb(L.float(), pred))[0]
            truth = rgb[0].numpy()
            psnrs.append(psnr(out, truth))
            cf_out.append(colorfulness(out))
            cf_true.append(colorfulness(truth))
            if len(rows) < 4:
                gray = tensor_to_uint8(model_to_rgb(L.float(), torch.zeros_like(pred)))[0]
                rows.append(np.concatenate([gray, out, truth], axis=1))
        G.train(was_training)
        result = {
            "l1": float(np.mean(l1)),
            "psnr": float(np.mean(psnrs)),
            "colorfulness": float(np.mean(cf_out)),
            "colorfulness_truth": float(np.mean(cf_true)),
        }
        result["colorfulness_ratio"] = result["colorfulness"] / max(result["colorfulness_truth"], 1e-6)
        result["score"] = score(result)
        if hinted:
            result[f"psnr_{VAL_HINTS}_hints"] = float(np.mean(hinted))
        self._log({"step": self.step, "kind": "val", **result})
        save_image(self.out / "samples" / f"step_{self.step:08d}.png", np.concatenate(rows, axis=0))
        if result["score"] > self.best_score:
            self.best_score = result["score"]
            save_pretrained(G, self.out / "best")
        tqdm.write(
            f"step {self.step}: val psnr {result['psnr']:.2f} dB, colourfulness {result['colorfulness']:.1f} "
            f"({result['colorfulness_ratio']:.2f} of truth), l1 {result['l1']:.4f}"
            + (f", psnr with {VAL_HINTS} hints {np.mean(hinted):.2f} dB" if hinted else ""),
            file=sys.stderr,
        )
        return result

    def close(self) -> None:
        self.dist.close()


def train(
    config: Config,
    data: str | os.PathLike,
    out: str | os.PathLike,
    val: str | os.PathLike | None = None,
    resume: bool = False,
) -> str:
    """Train a colorizer on a folder of colour photos; see `Trainer`. Returns 'done' or 'interrupted'."""
    trainer = Trainer(config, data, out, val, resume)
    try:
        return trainer.fit()
    finally:
        trainer.close()
