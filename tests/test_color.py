import numpy as np
import pytest
import torch
from conftest import colourful, real_photos
from PIL import Image
from skimage.color import lab2rgb, rgb2lab

from autocolor import color


def _lab(rgb_uint8: np.ndarray) -> torch.Tensor:
    return color.rgb_to_lab(color.uint8_to_tensor(rgb_uint8))


@pytest.mark.parametrize("source", ["random", "real"])
def test_agrees_with_scikit_image(source):
    if source == "random":
        rgb = np.random.default_rng(0).integers(0, 256, (32, 40, 3), dtype=np.uint8)
    else:
        rgb = np.asarray(Image.open(real_photos("val", 1)[0]).convert("RGB"))
    ours = _lab(rgb)[0].permute(1, 2, 0).numpy()
    ref = rgb2lab(rgb)
    assert np.abs(ours - ref).max() < 0.05
    back = color.tensor_to_uint8(color.lab_to_rgb(torch.from_numpy(ref).permute(2, 0, 1)[None].float()))[0]
    ref_back = np.round(lab2rgb(ref) * 255)
    assert np.abs(back.astype(float) - ref_back).max() < 0.5 + 1e-6  # within rounding on the 0-255 scale


def test_round_trip_uint8_exact_within_rounding():
    rgb = np.random.default_rng(1).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    t = color.uint8_to_tensor(rgb)
    L, ab = color.rgb_to_model(t)
    assert L.shape == (4, 1, 16, 16) and ab.shape == (4, 2, 16, 16)
    assert L.min() >= -1 and L.max() <= 1 and ab.abs().max() <= 1.2
    back = color.tensor_to_uint8(color.model_to_rgb(L, ab))
    assert np.abs(back.astype(int) - rgb.astype(int)).max() <= 1


def test_normalisation_inverts():
    x = torch.linspace(0, 100, 11)
    assert torch.allclose(color.denormalize_l(color.normalize_l(x)), x)
    ab = torch.linspace(-110, 110, 11)
    assert torch.allclose(color.denormalize_ab(color.normalize_ab(ab)), ab)
    assert color.denormalize_ab(torch.tensor([3.0, -3.0])).tolist() == [110.0, -110.0]  # clamped


def test_differentiable_and_batched():
    rgb = torch.rand(2, 3, 8, 8, requires_grad=True)
    L, ab = color.rgb_to_model(rgb)
    (L.sum() + ab.pow(2).sum()).backward()
    assert torch.isfinite(rgb.grad).all() and rgb.grad.abs().sum() > 0


def test_gray_keeps_lightness_and_drops_colour():
    rgb = colourful(32, 32)
    gray = color.gray_uint8(rgb)
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    lab_in, lab_gray = _lab(rgb), _lab(gray)
    assert (lab_in[:, 0] - lab_gray[:, 0]).abs().max() < 0.6  # L kept (up to uint8 rounding)
    assert lab_gray[:, 1:].abs().max() < 0.5
    assert (color.gray_uint8(gray) == gray).all()  # idempotent
