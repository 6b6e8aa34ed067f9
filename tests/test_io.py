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


# --- colour profiles, notes, limits, permissions, atomic writes ----------------------------------------


def test_icc_profile_is_converted_to_srgb(tmp_path):
    from badinputs import icc_profile
    from PIL import ImageCms

    colours = np.array([[[200, 60, 60], [128, 128, 128], [60, 160, 90]]], np.uint8)
    p3 = _save(tmp_path, "p3.png", Image.fromarray(colours), icc_profile=icc_profile())
    out = load_image(p3).rgb.astype(int)
    red, gray, green = out[0]
    assert red[0] > 200 and red[1] < 60 and red[2] < 60  # P3's red is redder than sRGB's: more saturated
    assert green[1] > 160 and green[0] < 60  # and its green greener
    assert np.abs(gray - 128).max() <= 3  # same white, gray stays gray
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = _save(tmp_path, "s.png", Image.fromarray(colours), icc_profile=srgb)
    assert (load_image(tagged).rgb == colours).all()  # an sRGB profile is left alone
    broken = _save(tmp_path, "b.png", Image.fromarray(colours), icc_profile=b"not a profile" * 10)
    loaded = load_image(broken)
    assert (loaded.rgb == colours).all() and "colour profile not applied" in loaded.notes[0]


def test_icc_profile_keeps_alpha(tmp_path):
    from badinputs import icc_profile

    im = Image.new("RGBA", (4, 4), (200, 60, 60, 100))
    out = load_image(_save(tmp_path, "a.png", im, icc_profile=icc_profile()))
    assert out.alpha is not None and (out.alpha == 100).all() and out.rgb[0, 0, 0] > 200


def test_corrupt_exif_and_frames_are_noted(tmp_path):
    from badinputs import corrupt_exif

    out = load_image(_save(tmp_path, "e.jpg", Image.fromarray(colourful()), exif=corrupt_exif()))
    assert out.rgb.shape == (48, 64, 3) and "Tag data larger than file" in out.notes[0]
    frames = [Image.fromarray(colourful(seed=i)) for i in range(4)]
    gif = _save(tmp_path, "a.gif", frames[0], save_all=True, append_images=frames[1:])
    assert load_image(gif).notes == ["GIF has 4 frames; used the first (frame 1 of 4)"]
    assert load_image(_save(tmp_path, "one.png", frames[0])).notes == []


def test_max_pixels_above_pillows_own_limit_is_ours_to_decide(tmp_path):
    from badinputs import png_header_only

    p = tmp_path / "huge.png"
    p.write_bytes(png_header_only(25000, 10000))  # 250 MP, beyond Pillow's default guard (179 MP)
    with pytest.raises(ImageError, match="250 MP exceeds the limit of 200 MP") as info:
        load_image(p, max_pixels=200_000_000)
    assert info.value.kind == "too_large" and "decompression bomb" not in str(info.value)
    with pytest.raises(ValueError, match="at least 1"):
        load_image(p, max_pixels=0)


def test_bomb_reaches_pillows_guard_and_reads_as_ours(tmp_path):
    from badinputs import png_header_only

    p = tmp_path / "bomb.png"
    p.write_bytes(png_header_only(30000, 30000))  # 900 MP in a small file
    with pytest.raises(Image.DecompressionBombError):
        Image.open(p)  # Pillow's own guard fires for this one ...
    with pytest.raises(ImageError, match="too large: 900 MP exceeds the limit of 100 MP") as info:
        load_image(p)  # ... and the user reads our sentence
    assert str(p) in str(info.value) and info.value.kind == "too_large"


def test_permission_denied_is_reported_as_such():
    import os
    import sys
    import tempfile

    from conftest import DROP_CAPABILITIES, as_nobody

    root = tempfile.mkdtemp()  # a folder the unprivileged user can reach
    os.chmod(root, 0o755)
    Image.fromarray(colourful()).save(f"{root}/secret.png")
    os.chmod(f"{root}/secret.png", 0o000)
    code = (
        "from autocolor.io import ImageError, load_image\n"
        + DROP_CAPABILITIES
        + "try:\n    load_image('secret.png')\nexcept ImageError as e:\n    print(e.kind, '|', e)\n"
    )
    r = as_nobody([sys.executable, "-c", code], root)
    assert r.stdout.strip() == "unreadable | secret.png: permission denied (cannot read the file)", r.stderr


def test_permissions_without_touching_the_umask(tmp_path, monkeypatch):
    import os

    from autocolor.atomic import _umask

    expected = 0o666 & ~_umask()

    def forbidden(*_):
        raise AssertionError("os.umask changes process-wide state")

    monkeypatch.setattr(os, "umask", forbidden)
    p = save_image(tmp_path / "perm.png", colourful())
    assert p.stat().st_mode & 0o777 == expected


def test_stale_temporary_file_is_reused_and_concurrent_writers_refused(tmp_path):
    import fcntl
    import os

    from autocolor.atomic import atomic_open, part_path

    target = tmp_path / "out.png"
    part_path(target).write_bytes(b"left by a killed run")
    save_image(target, colourful())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    assert load_image(target).size == (64, 48)
    fd = os.open(part_path(target), os.O_WRONLY | os.O_CREAT)  # another process writing it now
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(OSError, match="being written by another process"):
            with atomic_open(target, stable=True) as f:
                f.write(b"x")
    finally:
        os.close(fd)
    assert load_image(target).size == (64, 48)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_results_in_4_byte_pixels_are_saved_as_their_copies_are(tmp_path, suffix):
    """The Colorizer's results are views of (H, W, 4) RGBX arrays: Pillow takes them without a copy, and the
    saved file is the one a plain (H, W, 3) array gives."""
    from autocolor.io import save_image, to_pil

    rgbx = np.random.default_rng(5).integers(0, 256, (37, 53, 4), dtype=np.uint8)
    view, plain = rgbx[..., :3], np.ascontiguousarray(rgbx[..., :3])
    im = to_pil(view)
    assert im.mode == "RGBX" and np.array_equal(np.asarray(im.convert("RGB")), plain)
    rgbx[0, 0, 0] ^= 0xFF  # the same memory, not a copy
    assert im.getpixel((0, 0))[0] == rgbx[0, 0, 0]
    assert to_pil(plain).mode == "RGB" and to_pil(view[::2]).mode == "RGB"  # any other layout: a copy
    plain = np.ascontiguousarray(view)
    a, b = save_image(tmp_path / f"view{suffix}", view), save_image(tmp_path / f"plain{suffix}", plain)
    assert a.read_bytes() == b.read_bytes()
    assert Image.open(a).mode == "RGB"
