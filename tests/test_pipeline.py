from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import SHARED_PHOTOS, colourful, real_photos
from PIL import Image

from autocolor import color
from autocolor.colorspace import WHITE_D65, gray_fy, linear_to_srgb, luminance, srgb_to_fy, xyz_to_linear
from autocolor.composer import Compose, Guide
from autocolor.io import ImageError, load_image
from autocolor.pipeline import Colorizer, Prepared, bundled_weights

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def colorizer(tiny_weights):
    return Colorizer.from_pretrained(tiny_weights)


def _L(rgb):
    return color.rgb_to_lab(color.uint8_to_tensor(np.asarray(rgb)[..., :3]))[0, 0].numpy()


def test_colour_path_agrees_with_kornia():
    rgb = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    lab = color.rgb_to_lab(color.uint8_to_tensor(rgb))[0]
    with torch.no_grad():
        fy = torch.from_numpy(srgb_to_fy(rgb))
        assert np.abs(fy.numpy() * 116 - 16 - lab[0].numpy()).max() < 0.01
        flat = torch.zeros(2, 37, 53)  # coefficients at full resolution: ab = 0 * fy + lab's own ab
        out = linear_to_srgb(
            Compose()(fy, torch.cat([flat, lab[1:]]), torch.tensor(0), torch.tensor(37)).numpy()
        )[..., :3]
        assert np.abs(out.astype(int) - rgb).max() <= 1
        # out-of-gamut Lab: kept at the same lightness instead of clipped
        wild = torch.stack([torch.full_like(lab[0], 100.0), torch.full_like(lab[0], -100.0)])
        out = linear_to_srgb(
            Compose()(fy, torch.cat([flat, wild]), torch.tensor(0), torch.tensor(37)).numpy()
        )[..., :3]
    assert np.abs(_L(out) - lab[0].numpy()).max() < 0.6


@pytest.mark.parametrize("size", [(1, 1), (7, 300), (333, 251), (64, 64)])
def test_output_has_input_size_and_lightness(colorizer, size):
    w, h = size
    rgb = np.asarray(Image.fromarray(colourful(80, 80)).resize((w, h)))
    out = colorizer.colorize(rgb)
    assert out.size == (w, h) and out.mode == "RGB"
    assert np.abs(_L(out) - _L(rgb)).max() < 0.6  # lightness kept within uint8 rounding


def test_real_photo_keeps_lightness_and_gets_colour(colorizer):
    path = real_photos("val", 1)[0]
    src = Image.open(path)
    out = colorizer.colorize(path)
    assert out.size == src.size
    assert np.abs(_L(out) - _L(src.convert("RGB"))).max() < 0.6
    gray_in = color.gray_uint8(np.asarray(src.convert("RGB")))
    out_gray = colorizer.colorize(gray_in)
    # a colour input is colorized as its gray version (up to the gray's uint8 rounding of L)
    diff = np.abs(np.asarray(out_gray).astype(int) - np.asarray(out))
    assert diff.mean() < 0.5 and diff.max() <= 8


def test_alpha_is_kept(colorizer):
    rgba = np.dstack([colourful(40, 60), np.tile(np.arange(60, dtype=np.uint8) * 4, (40, 1))])
    out = colorizer.colorize(Image.fromarray(rgba, "RGBA"))
    assert out.mode == "RGBA" and np.array_equal(np.asarray(out)[..., 3], rgba[..., 3])


def test_exif_rotation_applied(colorizer, tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 8
    p = tmp_path / "rot.jpg"
    Image.fromarray(colourful(30, 50)).save(p, exif=exif)
    assert colorizer.colorize(p).size == (30, 50)


def test_batch_equals_single(colorizer):
    images = [colourful(48, 64, s) for s in range(3)] + [colourful(64, 48, 9)]
    batch = colorizer.colorize_batch(images, batch_size=2)
    for im, out in zip(images, batch, strict=True):
        assert np.abs(np.asarray(colorizer.colorize(im)).astype(int) - np.asarray(out)).max() <= 1


def test_render_size_changes_the_network_input_not_the_output_size(colorizer):
    rgb = colourful(90, 120)
    a, b = colorizer.colorize(rgb, render_size=32), colorizer.colorize(rgb, render_size=96)
    assert a.size == b.size == (120, 90) and not np.array_equal(np.asarray(a), np.asarray(b))


def test_bf16_close_to_fp32(tiny_weights):
    rgb = colourful(64, 64)
    a = np.asarray(Colorizer.from_pretrained(tiny_weights).colorize(rgb)).astype(int)
    b = np.asarray(Colorizer.from_pretrained(tiny_weights, precision="bf16").colorize(rgb)).astype(int)
    assert np.abs(a - b).mean() < 3


def test_bad_inputs(colorizer, tmp_path):
    p = tmp_path / "x.jpg"
    p.write_text("nope")
    with pytest.raises(ImageError, match="x.jpg"):
        colorizer.colorize(p)
    with pytest.raises(ValueError, match="uint8"):
        colorizer.colorize(np.zeros((4, 4), np.float32))


def test_missing_weights_are_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        Colorizer.from_pretrained(tmp_path)


def test_bundled_weights_ship_with_the_package():
    """Every file of the bundled model is matched by pyproject's package-data, so a wheel carries it."""
    import fnmatch

    import autocolor
    from autocolor.config import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["autocolor"]
    files = [p.relative_to(Path(autocolor.__file__).parent).as_posix() for p in bundled_weights().iterdir()]
    assert {"weights/config.json", "weights/model.safetensors"} <= set(files)
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)]
    assert not unshipped


def test_export_half_precision_matches_full(tiny_weights, tmp_path):
    from autocolor.cli import main

    assert (
        main(
            [
                "export",
                "--weights",
                str(tiny_weights),
                "--out",
                str(tmp_path / "half"),
                "--render-size",
                "128",
            ]
        )
        == 0
    )
    half = Colorizer.from_pretrained(tmp_path / "half")
    full = Colorizer.from_pretrained(tiny_weights)
    assert half.render_size == 128
    assert (tmp_path / "half" / "model.safetensors").stat().st_size < 0.6 * (
        tiny_weights / "model.safetensors"
    ).stat().st_size
    rgb = colourful(64, 64)
    a, b = np.asarray(full.colorize(rgb, 64)).astype(int), np.asarray(half.colorize(rgb, 64)).astype(int)
    assert np.abs(a - b).mean() < 1.0


def test_radius_0_is_bilinear_and_strips_equal_the_whole():
    ab = torch.rand(2, 7, 11) * 2 - 1
    fy = torch.rand(50, 83) * 0.8 + 0.2
    s = torch.tensor
    with torch.no_grad():
        coef = Guide()(ab, torch.rand(7, 11), s(1.0), s(0), s(1e-3), fy[0])
        whole = Compose()(fy, coef, s(0), s(50)).numpy()
        strips = np.concatenate(
            [Compose()(fy[a:b], coef, s(a), s(50)).numpy() for a, b in ((0, 13), (13, 50))]
        )
        assert np.array_equal(strips, whole)
        full = F.interpolate(ab[None] * 110, size=(50, 83), mode="bilinear", align_corners=False)[0]
        ours = Compose()(fy, torch.cat([torch.zeros(2, 50, 83), full]), s(0), s(50)).numpy()
        assert np.abs(linear_to_srgb(whole).astype(int) - linear_to_srgb(ours)).max() <= 1


def test_gray_lightness_reads_one_channel_and_agrees():
    gray = np.random.default_rng(2).integers(0, 256, (40, 50), dtype=np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=2)
    one, three = srgb_to_fy(gray[..., None]), srgb_to_fy(rgb)
    assert np.abs(one - three).max() < 1e-6
    assert np.abs(one * 116 - 16 - _L(rgb)).max() < 0.01
    assert np.array_equal(gray_fy()[gray], one)  # a gray photo's lookup gives srgb_to_fy's own values


def test_colorize_batch_equals_one_by_one_and_keeps_each_size(tiny_weights):
    c = Colorizer.from_pretrained(tiny_weights, render_size=64)
    images = [colourful(48, 64, 0), colourful(48, 64, 1), colourful(30, 90, 2)]  # two share a render shape
    batch = c.colorize_batch(images, batch_size=2)
    assert [im.size for im in batch] == [(64, 48), (64, 48), (90, 30)]
    for im, one in zip(images, batch, strict=True):
        assert np.abs(np.asarray(one, dtype=int) - np.asarray(c.colorize(im), dtype=int)).max() <= 1


def _reference_colorize(c: Colorizer, rgb: np.ndarray) -> np.ndarray:
    """The colour path the plain way: kornia's L of the whole photo, the network and the guide as the Colorizer
    runs them, then Lab -> sRGB written out in float64 numpy (bilinear rows, f^-1, the matrix, the
    mix with gray, the exact sRGB curve): no strips, no lookups, no 16-bit levels."""
    fy = ((color.rgb_to_lab(color.uint8_to_tensor(rgb))[0, 0].double().numpy() + 16) / 116).astype(np.float32)
    p = Prepared(fy, c.prepare(rgb).small)
    ab = c.predict_ab([p])[0]
    coef = c.backend.guide(ab, p.small, c.chroma_gain, c.guide_radius, c.guide_eps, fy[0]).astype(np.float64)
    fy = fy.astype(np.float64)
    H, h = fy.shape[0], coef.shape[1]
    src = np.maximum((np.arange(H) + 0.5) * (h / H) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(int), h - 1)
    i1, w = np.minimum(i0 + 1, h - 1), (src - i0)[:, None]
    up = coef[:, i0] + (coef[:, i1] - coef[:, i0]) * w
    a, b = (np.clip(up[i] * fy + up[i + 2], -110.0, 110.0) for i in (0, 1))
    f_inv = lambda t: np.where(t > 6 / 29, t**3, (t - 4 / 29) * 3 * (6 / 29) ** 2)  # noqa: E731
    xyz = np.stack([f_inv(fy + a / 500), f_inv(fy), f_inv(np.maximum(fy - b / 200, 0.0))])
    y = xyz[1]
    d = np.einsum("ij,jhw->ihw", xyz_to_linear().astype(np.float64), xyz) - y
    k = np.minimum((1 - y) / np.maximum(d.max(0), 1e-9), y / np.maximum(-d.min(0), 1e-9)).clip(0.0, 1.0)
    t = np.clip(y + d * k, 0.0, 1.0)
    srgb = np.where(t > 0.0031308, 1.055 * t ** (1 / 2.4) - 0.055, 12.92 * t)
    return np.floor(srgb * 255 + 0.5).astype(np.uint8).transpose(1, 2, 0)


def test_the_fast_colour_path_matches_the_plain_one():
    """Strips on every core, the gray lookup, 16-bit linear levels and the sRGB table give the colour maths'
    own output: mean difference <= 0.5 levels, max <= 3, on every photo."""
    c = Colorizer.from_pretrained()
    photos = sorted((SHARED_PHOTOS / "val").glob("*.jpg")) or sorted(EXAMPLES.glob("*.jpg"))
    for path in photos:
        rgb = load_image(path).rgb
        got, want = np.asarray(c.colorize(rgb), dtype=int), _reference_colorize(c, rgb).astype(int)
        diff = np.abs(got - want)
        assert diff.mean() <= 0.5 and diff.max() <= 3, (path.name, diff.mean(), diff.max())


def test_the_srgb_table_is_the_srgb_curve_and_the_constants_are_kornias():
    from kornia.color import rgb_to_xyz, xyz_to_rgb

    t = np.random.default_rng(3).random(200_000)
    exact = np.floor(np.where(t > 0.0031308, 1.055 * t ** (1 / 2.4) - 0.055, 12.92 * t) * 255 + 0.5)
    table = linear_to_srgb(np.floor(t * 65535 + 0.5).astype(np.uint16)).astype(int)
    diff = np.abs(table - exact)
    assert diff.max() <= 1 and diff.mean() < 0.02  # within a few hundredths of a level: rounding ties only
    white = torch.tensor(WHITE_D65, dtype=torch.float64)
    kornia = xyz_to_rgb(torch.eye(3, dtype=torch.float64)[:, :, None, None])[:, :, 0, 0].T * white
    assert np.allclose(xyz_to_linear(), kornia.numpy(), rtol=0, atol=1e-6)
    weights = rgb_to_xyz(torch.eye(3, dtype=torch.float64)[:, :, None, None])[:, 1, 0, 0]
    assert np.allclose(luminance(), weights.numpy(), rtol=0, atol=1e-7)


@pytest.mark.parametrize("gray", [True, False])
def test_the_render_size_lightness_is_pillows_resize_of_the_whole(gray):
    """Made strip by strip (and for a gray photo without a full-size float copy), the network's input is bit
    for bit what Pillow's resize(reducing_gap=2) makes of the whole photo's lightness."""
    c = Colorizer.from_pretrained()
    rng = np.random.default_rng(4)
    for H, W in [(1500, 2001), (333, 251), (1, 2000), (2000, 3), (40, 50)]:
        if gray:
            image = c.load(Image.fromarray(rng.integers(0, 256, (H, W), dtype=np.uint8), "L"))
        else:
            image = c.load(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
        p = c.prepare(image)
        assert (p.fy is None) == gray
        h, w = p.small.shape
        whole = Image.fromarray(c.lightness(image.rgb), "F")
        want = np.asarray(whole.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=2.0))
        assert np.array_equal(p.small, want), (H, W)
