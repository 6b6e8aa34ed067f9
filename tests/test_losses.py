import math

import pytest
import torch

from autocolor.losses import discriminator_loss, generator_adversarial_loss, reconstruction_loss


def test_vanilla_matches_bce_by_hand():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    sig = torch.sigmoid
    expected = 0.5 * (-(torch.log(sig(real))).mean() - torch.log(1 - sig(fake)).mean())
    assert discriminator_loss(real, fake, "vanilla").item() == pytest.approx(expected.item(), rel=1e-5)
    assert generator_adversarial_loss(fake, "vanilla").item() == pytest.approx(
        (-torch.log(sig(fake))).mean().item(), rel=1e-5
    )


def test_lsgan_and_hinge():
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])
    assert discriminator_loss(real, fake, "lsgan").item() == pytest.approx(0.5 * (0.5 + 2.0))
    assert generator_adversarial_loss(fake, "lsgan").item() == pytest.approx(0.5 * (1 + 1))
    assert discriminator_loss(real, fake, "hinge").item() == pytest.approx(0.5 * (0.5 + 2.0))
    assert generator_adversarial_loss(fake, "hinge").item() == pytest.approx(-1.0)


def test_perfect_discriminator_has_low_loss_and_generator_high():
    real, fake = torch.full((4,), 20.0), torch.full((4,), -20.0)
    assert discriminator_loss(real, fake).item() < 1e-6
    assert generator_adversarial_loss(fake).item() == pytest.approx(20.0, rel=1e-3)


def test_reconstruction_losses():
    a, b = torch.zeros(2, 2, 4, 4), torch.full((2, 2, 4, 4), 0.5)
    assert reconstruction_loss(a, b, "l1").item() == pytest.approx(0.5)
    assert reconstruction_loss(a, b, "smooth_l1").item() == pytest.approx(0.5 - 0.01)
    with pytest.raises(ValueError, match="l1, smooth_l1"):
        reconstruction_loss(a, b, "l2")
    with pytest.raises(ValueError, match="vanilla, lsgan, hinge"):
        generator_adversarial_loss(a, "wgan")
    assert math.isfinite(discriminator_loss(torch.randn(8), torch.randn(8), "hinge").item())
