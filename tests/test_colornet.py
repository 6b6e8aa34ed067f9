"""The pretrained encoder, the colour classes and the U-Net built on them (models/effnet.py, color_classes.py,
models/colornet.py)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from autocolor.color_classes import (
    annealed_mean,
    class_loss,
    gamut_bins,
    photo_counts,
    rebalancing_weights,
    soft_targets,
)
from autocolor.colorspace import AB_SCALE
from autocolor.config import Config, GeneratorConfig
from autocolor.models import ColorNet, build_generator
from autocolor.models.effnet import EfficientNetLite0, load_imagenet

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# ImageNet classes of three of the old photos in examples/ (gray, as the colorizer sees them)
IMAGENET_CLASSES = {
    "stdlib-french-alpine-landscape.jpg": (970, "alp"),
    "stdlib-nagasaki-boats.jpg": (536, "dock"),
    "stdlib-dust-bowl-home.jpg": (425, "barn"),
}
Q = len(gamut_bins())


def v3_config(**changes) -> GeneratorConfig:
    cfg = GeneratorConfig(encoder="efficientnet-lite0", num_downs=5, classes=Q, ngf=16, norm="group")
    for k, v in changes.items():
        setattr(cfg, k, v)
    return cfg


def test_imagenet_weights_load_and_name_the_photos_classes():
    model = EfficientNetLite0(classifier=True)
    load_imagenet(model)
    model.eval()
    for name, (index, label) in IMAGENET_CLASSES.items():
        im = Image.open(EXAMPLES / name).convert("RGB").resize((224, 224), Image.Resampling.BICUBIC)
        x = torch.from_numpy(np.array(im)).permute(2, 0, 1)[None].float() / 255.0
        with torch.no_grad():
            top = model(model.normalize(x)).argmax(1).item()
        assert top == index, f"{name}: ImageNet class {top}, expected {index} ({label})"


def test_generator_starts_from_the_imagenet_encoder():
    trained = EfficientNetLite0()
    load_imagenet(trained)
    net = build_generator(v3_config(), pretrained=True)
    assert isinstance(net, ColorNet)
    for key, value in trained.state_dict().items():
        assert torch.equal(net.encoder.state_dict()[key], value), key
    fresh = build_generator(v3_config())
    assert not torch.equal(fresh.encoder._conv_stem.weight, trained._conv_stem.weight)


def test_gamut_bins_cover_srgb_on_a_10_unit_grid():
    bins = gamut_bins()
    assert (
        bins.shape == (Q, 2)
        and Q == Config.load(Path(__file__).parents[1] / "configs" / "v3.toml").generator.classes
    )
    assert torch.equal(bins, torch.round(bins / 10) * 10)
    assert (bins == 0).all(1).any()  # gray
    assert bins[:, 0].max() >= 80 and bins[:, 1].min() <= -100  # sRGB's red and blue reach far out


def test_soft_targets_spread_over_the_nearest_bins():
    bins = gamut_bins()
    ab = torch.tensor([[0.0, 0.0], [23.0, -41.0]]).T.reshape(1, 2, 1, 2)
    target, nearest = soft_targets(ab, bins)
    assert torch.allclose(target.sum(1), torch.ones(1, 1, 2))
    assert ((target > 0).sum(1) == 5).all()
    assert bins[nearest[0, 0, 1]].tolist() == [20.0, -40.0]
    assert target[0, :, 0, 0].argmax() == nearest[0, 0, 0]


def test_rebalancing_favours_rare_colours_with_unit_mean():
    bins = gamut_bins()
    counts = torch.zeros(Q, dtype=torch.float64)
    gray = int((bins == 0).all(1).nonzero())
    counts[gray], counts[(gray + 40) % Q] = 1000, 10
    w = rebalancing_weights(counts, bins)
    assert w[(gray + 40) % Q] > w[gray]
    prior = counts / counts.sum()
    assert float((w.double() * prior).sum()) < 1.5  # about 1 (the smoothed prior is what sums to 1)


def test_photo_counts_see_the_colours_of_the_photos():
    bins = gamut_bins()
    red = torch.zeros(16, 16, 3, dtype=torch.uint8)
    red[..., 0] = 255
    counts = photo_counts([red], bins)
    assert counts.sum() == 16 and bins[counts.argmax()][0] >= 70  # sRGB red: a* about 80


def test_annealed_mean_goes_from_the_mean_to_the_mode():
    bins = gamut_bins()
    logits = torch.full((1, Q, 1, 1), -5.0)
    a, b = int((bins == torch.tensor([60.0, 60.0])).all(1).nonzero()), int((bins == 0).all(1).nonzero())
    logits[0, a], logits[0, b] = 2.0, 1.5
    mean, mode = annealed_mean(logits, bins, 1.0), annealed_mean(logits, bins, 0.01)
    assert torch.allclose(mode[0, :, 0, 0], torch.tensor([60.0, 60.0]), atol=0.1)
    assert 0 < mean[0, 0, 0, 0] < annealed_mean(logits, bins, 0.38)[0, 0, 0, 0] < 60


def test_class_loss_is_lowest_for_the_truth():
    bins = gamut_bins()
    ab = torch.zeros(1, 2, 8, 8)
    ab[:, 0] = 40.0
    target, _ = soft_targets(torch.full((1, 2, 2, 2), 0.0) + ab[:, :, :2, :2], bins)
    good = torch.log(target.clamp_min(1e-6))
    bad = torch.roll(good, 30, dims=1)
    w = torch.ones(Q)
    assert class_loss(good, ab, bins, w) < class_loss(bad, ab, bins, w)


def test_colornet_shapes_range_and_temperature():
    torch.manual_seed(0)
    net = build_generator(v3_config(hints=True)).eval()
    x = torch.rand(2, 4, 64, 96) * 2 - 1
    x[:, 1:] = 0
    with torch.no_grad():
        ab, logits = net(x, with_logits=True)
        vivid = net(x, torch.tensor(0.1))
    assert ab.shape == (2, 2, 64, 96) and logits.shape == (2, Q, 16, 24)
    assert ab.abs().max() <= 128 / AB_SCALE
    assert vivid.abs().mean() > ab.abs().mean()  # a random head is most sure of nothing: the mode is farther


def test_hints_reach_the_output():
    torch.manual_seed(0)
    net = build_generator(v3_config(hints=True)).eval()
    x = torch.zeros(1, 4, 64, 64)
    hinted = x.clone()
    hinted[0, 1:3, 30:34, 30:34] = 0.5
    hinted[0, 3, 30:34, 30:34] = 1.0
    with torch.no_grad():
        change = (net(hinted) - net(x)).abs().sum(1)[0]
    assert change[28:36, 28:36].mean() > 1e-3  # (where they steer it is learned: see test_bundled)


def test_encoder_batchnorm_keeps_imagenet_statistics_in_training():
    net = build_generator(v3_config(), pretrained=True).train()
    before = net.encoder._bn0.running_mean.clone()
    net(torch.rand(2, 1, 64, 64) * 2 - 1)
    assert torch.equal(net.encoder._bn0.running_mean, before)
    assert net.levels.training and not net.encoder._bn0.training


def test_unknown_encoder_is_refused_before_training():
    with pytest.raises(ValueError, match="generator.encoder"):
        Config.load(None, ["generator.encoder='resnet'"])


def test_a_short_real_training_run_sets_the_class_weights_from_the_photos(tmp_path):
    from conftest import save_photos

    from autocolor.checkpoint import load_pretrained
    from autocolor.pipeline import Colorizer
    from autocolor.train import train

    data = save_photos(tmp_path / "data", 4, 80, 96)
    cfg = Config.load(
        Path(__file__).resolve().parents[1] / "configs" / "v3.toml",
        ["generator.ngf=8", "generator.render_size=64", "train.size=64", "train.batch_size=2", "train.steps=3",
         "train.val_every=0", "train.cache_images=false", "train.num_workers=0", "train.checkpoint_every=2"],
    )  # fmt: skip
    assert train(cfg, data, tmp_path / "run") == "done"
    model = load_pretrained(tmp_path / "run" / "generator")
    assert isinstance(model, ColorNet) and model.config.classes == Q
    w = model.class_weights
    assert w.std() > 0 and torch.isfinite(w).all()  # from the photos' colours, not the initial ones
    out = Colorizer.from_pretrained(tmp_path / "run" / "generator", backend="torch").colorize(
        np.zeros((40, 50, 3), np.uint8) + 90, vividness=0.8
    )
    assert out.size == (50, 40)
