import pytest
import torch

from autocolor.config import DiscriminatorConfig, GeneratorConfig
from autocolor.models import PatchGAN, UNet


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_paper_generator_parameter_count():
    # pix2pix's U-Net 256 has 54,414,019 parameters with 3 channels in and out; ours maps L -> ab
    assert count(UNet(GeneratorConfig(in_channels=3, out_channels=3))) == 54_414_019
    assert abs(count(UNet()) - 54.4e6) < 0.05e6


@pytest.mark.parametrize("norm", ["batch", "instance", "group", "none"])
@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_unet_shapes_and_range(norm, upsample):
    g = UNet(GeneratorConfig(ngf=8, num_downs=4, norm=norm, upsample=upsample)).eval()
    for h, w in [(32, 32), (48, 80)]:
        out = g(torch.rand(2, 1, h, w) * 2 - 1)
        assert out.shape == (2, 2, h, w)
        assert out.abs().max() <= 1


def test_unet_skip_connections_carry_detail():
    """Changing one input pixel changes the output near it: the skips bypass the 1x1 bottleneck."""
    torch.manual_seed(0)
    g = UNet(GeneratorConfig(ngf=8, num_downs=5, norm="none")).eval()
    x = torch.zeros(1, 1, 32, 32)
    y = x.clone()
    y[0, 0, 3, 3] = 1
    diff = (g(x) - g(y)).abs()[0].sum(0)
    assert diff[:8, :8].sum() > 0 and diff[16:, 16:].sum() < diff[:8, :8].sum()
    assert len(g.down) == 5 and len(g.up) == 5


def test_dropout_only_in_training_and_innermost():
    g = UNet(GeneratorConfig(ngf=8, num_downs=8, dropout=0.5))
    assert sum(isinstance(m, torch.nn.Dropout) for m in g.modules()) == 3
    g.eval()
    x = torch.rand(1, 1, 256, 256)
    assert torch.equal(g(x), g(x))


def test_unknown_names_are_errors():
    with pytest.raises(ValueError, match="batch, instance, group, none"):
        UNet(GeneratorConfig(norm="layer"))
    with pytest.raises(ValueError, match="transpose, resize"):
        UNet(GeneratorConfig(upsample="pixelshuffle"))


def test_patchgan_70x70_map_and_receptive_field():
    d = PatchGAN().eval()
    out = d(torch.rand(1, 1, 256, 256), torch.rand(1, 2, 256, 256))
    assert out.shape == (1, 1, 30, 30)
    # receptive field: perturbing one input pixel reaches at most a 70 px window's worth of outputs
    L = torch.zeros(1, 1, 256, 256, requires_grad=True)
    d(L, torch.zeros(1, 2, 256, 256))[0, 0, 15, 15].backward()
    rows = L.grad[0, 0].abs().sum(1).nonzero()
    assert rows.max() - rows.min() + 1 <= 70


def test_patchgan_spectral_norm_and_depth():
    d = PatchGAN(DiscriminatorConfig(ndf=8, n_layers=2, norm="none", spectral_norm=True))
    assert any("parametrizations" in k for k in d.state_dict())
    assert d(torch.rand(2, 1, 64, 64), torch.rand(2, 2, 64, 64)).shape[:2] == (2, 1)


@pytest.mark.parametrize(("n_layers", "side"), [(3, 70), (2, 34), (1, 16)])
def test_patchgan_receptive_field_is_what_the_gradient_reaches(n_layers, side):
    d = PatchGAN(DiscriminatorConfig(ndf=4, n_layers=n_layers, norm="none")).eval()
    assert d.receptive_field() == side
    L = torch.zeros(1, 1, 160, 160, requires_grad=True)
    out = d(L, torch.zeros(1, 2, 160, 160))
    h, w = out.shape[-2:]
    out[0, 0, h // 2, w // 2].backward()
    nz = L.grad[0, 0].abs().nonzero()
    assert (nz.max(0).values - nz.min(0).values + 1).tolist() == [side, side]
