"""The pix2pix update: generator and discriminator, their optimizers and learning-rate schedules, EMA, and
one training step. No data loading, files or processes here (train.py runs the loop, runtime.py the processes).

    rgb uint8 (B, H, W, 3) -> L, ab (model scale) -> generator_input -> G -> ab'
    D step on (L, ab) vs (L, ab') past `pretrain_steps`; then G step on lambda_l1 * |ab' - ab| + gan_weight * adv
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from .checkpoint import load_pretrained, unwrap
from .color import rgb_to_model
from .color_classes import class_loss, rebalancing_weights
from .colorspace import AB_SCALE
from .config import Config, architecture
from .hint_sim import simulate_hints
from .losses import discriminator_loss, generator_adversarial_loss, reconstruction_loss
from .models import PatchGAN, UNet, build_generator
from .models.unet import add_hint_inputs
from .precision import autocast


def linear_decay(steps: int, decay_steps: int | None):
    """LR multiplier: 1 until the last `decay_steps` (default: half of `steps`), then linearly to 0."""
    decay = decay_steps if decay_steps is not None else steps // 2
    return lambda step: 1.0 if step < steps - decay else max(0.0, (steps - step) / max(1, decay))


class Pix2PixStep:
    """Networks, optimizers, schedules and EMA of one pix2pix model, and `train_step`.

    `distributed=True` wraps G and D in DistributedDataParallel (the process group must exist).
    `class_counts`: for a colour-class generator, how often each ab bin occurs in the training photos (see
    color_classes.bin_counts); they set its loss weights (a resumed run loads them with the weights instead).
    `state_dict()` holds everything but the network weights, which checkpoints store as safetensors
    (see `models()`); only tensors and plain Python values, so it loads with torch.load(weights_only=True).
    """

    def __init__(
        self,
        config: Config,
        device: torch.device,
        distributed: bool = False,
        class_counts: torch.Tensor | None = None,
    ):
        self.cfg, self.device = config, device
        tc = config.train
        if tc.size % (2**config.generator.num_downs):
            raise ValueError(
                f"train.size {tc.size} must be a multiple of 2**generator.num_downs "
                f"= {2**config.generator.num_downs}"
            )
        self.G = build_generator(config.generator, pretrained=not tc.init_generator).to(device)
        self.D = PatchGAN(config.discriminator).to(device)
        if tc.init_generator:
            self._init_generator(tc.init_generator)
        if class_counts is not None and config.generator.classes:
            self.G.class_weights.copy_(rebalancing_weights(class_counts, self.G.centres.cpu()))
        if tc.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        betas = (tc.beta1, tc.beta2)
        self.opt_g = torch.optim.Adam(self._generator_groups(), lr=tc.lr, betas=betas, fused=True)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=tc.lr_d or tc.lr, betas=betas, fused=True)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, linear_decay(tc.steps, tc.decay_steps))
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, linear_decay(tc.steps, tc.decay_steps))
        self.G_train = DDP(self.G) if distributed else self.G
        self.D_train = DDP(self.D) if distributed else self.D
        self.ema = None
        if tc.ema_decay > 0:
            self.ema = AveragedModel(
                self.G, multi_avg_fn=get_ema_multi_avg_fn(tc.ema_decay), use_buffers=True
            )
        self.step = 0

    def _generator_groups(self) -> list[dict]:
        """G's parameters; the hint input convolution (new when fine-tuning for hints) at lr * lr_hint_scale."""
        hint = [p for name, p in self.G.named_parameters() if name.startswith("hint_in.")]
        rest = [p for name, p in self.G.named_parameters() if not name.startswith("hint_in.")]
        groups = [{"params": rest}]
        if hint:
            groups.append({"params": hint, "lr": self.cfg.train.lr * self.cfg.train.lr_hint_scale})
        return groups

    def _init_generator(self, path: str) -> None:
        """Start from a trained generator of the same architecture (colorizing defaults may differ)."""
        init = load_pretrained(path)
        mine, theirs = architecture(self.cfg.generator), architecture(init.config)
        mine.pop("hints"), theirs.pop("hints")  # hint inputs may be added (below), never taken away
        if mine != theirs or (init.config.hints and not self.cfg.generator.hints):
            raise ValueError(f"{path}: its generator config {init.config} differs from this run's")
        state = init.state_dict()
        if self.cfg.generator.hints and not init.config.hints:  # stage 2 of the paper: add hint inputs
            if self.cfg.generator.encoder != "unet":
                raise ValueError(
                    f"{path}: hint inputs can be added to the classic U-Net only; train with hints"
                )
            state = add_hint_inputs(state)
        self.G.load_state_dict(state)

    # --- state -----------------------------------------------------------------------------------------
    def models(self) -> dict[str, torch.nn.Module]:
        """The networks a checkpoint stores, by file name."""
        models = {"generator": self.G, "discriminator": self.D}
        if self.ema is not None:
            models["ema"] = self.ema.module
        return models

    def exported(self) -> UNet:
        """The generator to ship: the EMA weights when EMA is on."""
        return unwrap(self.ema) if self.ema is not None else self.G

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "sched_g": self.sched_g.state_dict(),
            "sched_d": self.sched_d.state_dict(),
            "ema_n_averaged": self.ema.n_averaged.clone() if self.ema is not None else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])
        if self.ema is not None and state["ema_n_averaged"] is not None:
            self.ema.n_averaged.copy_(state["ema_n_averaged"])
        self.step = state["step"]

    # --- one step --------------------------------------------------------------------------------------
    def prepare_batch(self, rgb_uint8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """RGB uint8 (B, H, W, 3) -> L (B, 1, H, W) in [-1, 1] and ab (B, 2, H, W) in about [-1, 1] on the
        training device."""
        rgb = rgb_uint8.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
        with torch.no_grad():
            L, ab = rgb_to_model(rgb)
        if self.cfg.train.channels_last:
            L = L.contiguous(memory_format=torch.channels_last)
            ab = ab.contiguous(memory_format=torch.channels_last)
        return L, ab

    def generator_input(self, L: torch.Tensor, ab: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        """What the generator sees for a batch whose truth is `ab`: lightness L (B, 1, H, W), then (with
        `generator.hints`) hint ab and mask simulated from the truth by each sample's data seed."""
        if not self.cfg.generator.hints:
            return L
        return torch.cat([L, simulate_hints(ab.float(), seeds).to(L.dtype)], dim=1)

    def train_step(self, rgb_uint8: torch.Tensor, seeds: list[int] | None = None) -> dict[str, float]:
        """One G (and, past pretrain_steps, D) update on a batch of RGB uint8 crops (B, H, W, 3); `seeds`
        (the samples' data seeds) drive the simulated hints."""
        tc = self.cfg.train
        L, ab = self.prepare_batch(rgb_uint8)
        if seeds is None:
            seeds = [self.step * len(L) + i for i in range(len(L))]
        adversarial = self.step >= tc.pretrain_steps and tc.gan_weight > 0
        logs: dict[str, float] = {}
        classes = self.cfg.generator.classes
        with autocast(self.device, tc.precision):
            x = self.generator_input(L, ab, seeds)
            fake, head = self.G_train(x, with_logits=True) if classes else (self.G_train(x), None)
        loss_adv = torch.zeros((), device=self.device)
        if adversarial:
            self.D.requires_grad_(True)
            with autocast(self.device, tc.precision):
                if self.cfg.discriminator.norm == "batch":
                    # separate passes, as pix2pix does: BatchNorm over a mixed real+fake batch judges the
                    # fakes by other statistics than G's later fake-only pass, and G gets almost no signal
                    real_logits, fake_logits = self.D_train(L, ab), self.D_train(L, fake.detach())
                else:  # no cross-sample statistics: real and fake pairs in one forward pass
                    real_logits, fake_logits = self.D_train(
                        torch.cat([L, L]), torch.cat([ab, fake.detach()])
                    ).chunk(2)
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
        if classes:
            loss_rec = class_loss(head, ab * AB_SCALE, self.G.centres, self.G.class_weights)
        else:
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
