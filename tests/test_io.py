import io as _io

import numpy as np
import pytest
from conftest import colourful
from PIL import Image

from autocolor.io import ImageError, list_images, load_image, save_image


def _save(tmp_path, name, im, **kw):
    p = tmp_path / name
    im.save(p, **kw)
    return p


def test_rgb_jpeg(tmp_path):
    rgb = colourful()
    out = load_image(_save(tmp_path, "a.jpg", Image.fromarray(rgb), quality=95))
    assert out.rgb.shape == rgb.shape and out.rgb.dtype == np.uint8 and out.alpha is None
    assert out.size == (64, 48)


@pytest.mark.parametrize("mode", ["L", "1", "P", "CMYK", "LA", "RGBA", "I;16", "I", "F"])
def test_odd_modes_become_rgb(tmp_path, mode):
    base = Image.fromarray(colourful())
    if mode in ("I;16", "I", "F"):
        arr16 = np.asarray(base.convert("L")).astype(np.uint16) * 257
        im = (
            Image.fromarray(arr16.astype(np.float32) / 65535.0, "F")
            if mode == "F"
            else Image.fromarray(arr16)
        )
        name = "x.tiff"
    else:
        im = base.convert(mode)
        name = "x.jpg" if mode == "CMYK" else "x.png"
    if mode == "RGBA":
        a = np.full(im.size[::-1], 255, np.uint8)
        a[:10] = 0
        im.putalpha(Image.fromarray(a))
    out = load_image(_save(tmp_path, name, im))
    assert out.rgb.shape == (48, 64, 3) and out.rgb.dtype == np.uint8
    if mode in ("I;16", "I", "F"):  # 16-bit / float scaled down, not clipped to white
        ref = np.asarray(base.convert("L")).astype(int)
        assert np.abs(out.rgb[..., 0].astype(int) - ref).max() <= 1
    if mode == "RGBA":
        assert out.alpha is not None and out.alpha[:10].max() == 0 and out.alpha[10:].min() == 255
    if mode == "LA":
        assert out.alpha is None  # fully opaque alpha is dropped


def test_palette_with_transparency_keeps_alpha(tmp_path):
    im = Image.fromarray(colourful()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    idx = np.asarray(im)[0, 0]
    im.info["transparency"] = int(idx)
    out = load_image(_save(tmp_path, "p.png", im, transparency=int(idx)))
    assert out.alpha is not None and out.alpha[0, 0] == 0


def test_exif_orientation_applied(tmp_path):
    im = Image.fromarray(colourful(20, 60))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    out = load_image(_save(tmp_path, "r.jpg", im, exif=exif))
    assert out.size == (20, 60)


@pytest.mark.parametrize("case", ["empty", "text", "truncated", "garbage", "missing"])
def test_bad_files_raise_one_error_naming_the_file(tmp_path, case):
    p = tmp_path / f"{case}.jpg"
    if case == "empty":
        p.write_bytes(b"")
    elif case == "text":
        p.write_text("hello")
    elif case == "truncated":
        buf = _io.BytesIO()
        Image.fromarray(colourful(200, 200)).save(buf, "JPEG", quality=95)
        p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    elif case == "garbage":
        p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(ImageError) as info:
        load_image(p)
    assert str(p) in str(info.value) and info.value.reason
    assert "\n" not in str(info.value)


def test_pixel_limit(tmp_path):
    p = _save(tmp_path, "big.png", Image.new("L", (400, 300)))
    with pytest.raises(ImageError, match="too large"):
        load_image(p, max_pixels=100_000)
    assert load_image(p, max_pixels=120_000).size == (400, 300)


def test_decompression_bomb_refused(tmp_path):
    p = _save(tmp_path, "bomb.png", Image.new("1", (20000, 12000)))  # 240 MP, tiny file
    with pytest.raises(ImageError, match="too large"):
        load_image(p)


def test_save_formats_and_jpeg_quality(tmp_path):
    rgb = colourful()
    alpha = np.full(rgb.shape[:2], 128, np.uint8)
    p = save_image(tmp_path / "o.jpg", rgb, alpha)
    with Image.open(p) as im:
        assert im.mode == "RGB" and im.format == "JPEG"
        from PIL import JpegImagePlugin

        assert JpegImagePlugin.get_sampling(im) == 0  # 4:4:4, no chroma subsampling
    assert np.abs(load_image(p).rgb.astype(int) - rgb).mean() < 2
    p = save_image(tmp_path / "o.png", rgb, alpha)
    out = load_image(p)
    assert (out.rgb == rgb).all() and (out.alpha == 128).all()
    with pytest.raises(ImageError, match="cannot write"):
        save_image(tmp_path / "o.xyz", rgb)
    assert not list(tmp_path.glob(".*part"))


def test_list_images_recurses_and_filters(photo_dir):
    names = [p.name for p in list_images(photo_dir)]
    assert names == ["a.jpg", "b.png", "broken.jpg", "c.jpg"]


def test_saved_files_get_normal_permissions(tmp_path):
    import os

    p = save_image(tmp_path / "perm.png", colourful())
    mask = os.umask(0)
    os.umask(mask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask
