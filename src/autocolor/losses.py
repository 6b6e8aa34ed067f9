"""Losses as plain functions. Logits are raw discriminator outputs; targets are implied by the function."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .config import GAN_MODES


def _check(mode: str) -> None:
    if mode not in GAN_MODES:
        raise ValueError(f"unknown gan_mode '{mode}'; choose one of {', '.join(GAN_MODES)}")


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, mode: str = "vanilla"
) -> torch.Tensor:
    """D's loss on real and (detached) fake logits, halved as in pix2pix."""
    _check(mode)
    real_logits, fake_logits = real_logits.float(), fake_logits.float()
    if mode == "vanilla":
        loss = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    elif mode == "lsgan":
        loss = F.mse_loss(real_logits, torch.ones_like(real_logits)) + F.mse_loss(
            fake_logits, torch.zeros_like(fake_logits)
        )
    else:
        loss = F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
    return 0.5 * loss


def generator_adversarial_loss(fake_logits: torch.Tensor, mode: str = "vanilla") -> torch.Tensor:
    """G's adversarial loss: make D call its output real."""
    _check(mode)
    fake_logits = fake_logits.float()
    if mode == "vanilla":
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
    if mode == "lsgan":
        return F.mse_loss(fake_logits, torch.ones_like(fake_logits))
    return -fake_logits.mean()


RECON_LOSSES = {
    "l1": lambda pred, target: F.l1_loss(pred.float(), target.float()),
    "smooth_l1": lambda pred, target: F.smooth_l1_loss(pred.float(), target.float(), beta=0.02),
}


def reconstruction_loss(pred: torch.Tensor, target: torch.Tensor, kind: str = "l1") -> torch.Tensor:
    if kind not in RECON_LOSSES:
        raise ValueError(f"unknown recon_loss '{kind}'; choose one of {', '.join(RECON_LOSSES)}")
    return RECON_LOSSES[kind](pred, target)
