import numpy as np
import pytest
from conftest import colourful
from PIL import Image

from autocolor.cli import main
from autocolor.color import gray_uint8
from autocolor.io import load_image


def test_grayscale_mirrors_tree_and_reports_bad_files(photo_dir, tmp_path, capsys):
    out = tmp_path / "gray"
    before = sorted(p.read_bytes() for p in photo_dir.rglob("*") if p.is_file())
    rc = main(
        ["prepare", "grayscale", "--original", str(photo_dir), "--grayscale", str(out), "--workers", "2"]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert "broken.jpg" in err and "3 written, 1 failed" in err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a.jpg",
        "sub/b.jpg",
        "sub/deeper/c.jpg",
    ]
    g = load_image(out / "sub" / "b.jpg").rgb
    ref = gray_uint8(load_image(photo_dir / "sub" / "b.png").rgb)
    assert g.shape == ref.shape and np.abs(g.astype(int) - ref).mean() < 1  # up to JPEG error
    assert np.abs(g[..., 0].astype(int) - g[..., 2]).max() <= 1  # gray, even after JPEG
    assert sorted(p.read_bytes() for p in photo_dir.rglob("*") if p.is_file()) == before  # inputs untouched


def test_grayscale_clean_folder_exits_zero(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    Image.fromarray(colourful()).save(src / "x.png")
    rc = main(
        [
            "prepare",
            "grayscale",
            "--original",
            str(src),
            "--grayscale",
            str(tmp_path / "g"),
            "--format",
            "png",
            "--workers",
            "1",
        ]
    )
    assert rc == 0 and "1 written, 0 failed" in capsys.readouterr().err
    assert (tmp_path / "g" / "x.png").is_file()


def test_refuses_to_write_into_its_input(tmp_path):
    (tmp_path / "x").mkdir()
    assert (
        main(["prepare", "grayscale", "--original", str(tmp_path / "x"), "--grayscale", str(tmp_path / "x")])
        == 2
    )


@pytest.mark.parametrize("with_gray", [False, True])
def test_combine_makes_ab_pairs(photo_dir, tmp_path, capsys, with_gray):
    out = tmp_path / "pairs"
    args = [
        "prepare",
        "combine",
        "--original",
        str(photo_dir),
        "--combined",
        str(out),
        "--size",
        "32",
        "--format",
        "png",
        "--workers",
        "2",
    ]
    if with_gray:
        gray = tmp_path / "gray"
        main(
            [
                "prepare",
                "grayscale",
                "--original",
                str(photo_dir),
                "--grayscale",
                str(gray),
                "--format",
                "png",
            ]
        )
        (gray / "sub" / "deeper" / "c.png").unlink()  # one counterpart missing
        args += ["--grayscale", str(gray)]
    capsys.readouterr()
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 1 and "broken.jpg" in err
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    if with_gray:
        assert "no grayscale counterpart" in err and "c.jpg" in err
        assert written == ["a.png", "sub/b.png"]
    else:
        assert written == ["a.png", "sub/b.png", "sub/deeper/c.png"]
    pair = load_image(out / "a.png").rgb
    assert pair.shape == (32, 64, 3)
    left, right = pair[:, :32].astype(int), pair[:, 32:].astype(int)
    assert np.abs(left[..., 0] - left[..., 1]).max() <= 1  # gray half
    assert np.abs(right[..., 0] - right[..., 2]).max() > 50  # colour half
    ref = np.asarray(Image.fromarray(load_image(photo_dir / "a.jpg").rgb).resize((32, 32), Image.BICUBIC))
    assert np.abs(right - ref).mean() < 3
    assert np.abs(left - gray_uint8(right.astype(np.uint8))).mean() < 3


def test_gray_plane_is_gray_uint8_in_strips():
    from autocolor.prepare import gray_plane

    rng = np.random.default_rng(0)
    for rgb in (colourful(300, 5000), rng.integers(0, 256, (40, 70, 3), dtype=np.uint8)):
        plane = gray_plane(rgb)  # 300 x 5000 spans two strips of rows
        assert plane.shape == rgb.shape[:2] and plane.dtype == np.uint8
        assert np.abs(plane.astype(int) - gray_uint8(rgb)[..., 0]).max() <= 1


def test_transparency_is_kept_in_png_and_said_to_be_dropped_in_jpg(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    im = Image.fromarray(colourful()).convert("RGBA")
    im.putalpha(Image.new("L", im.size, 90))
    im.save(src / "t.png")
    for fmt in ("png", "jpg"):
        args = ["prepare", "grayscale", "--original", str(src), "--grayscale", str(tmp_path / fmt)]
        assert main([*args, "--format", fmt, "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert err.count("transparency dropped") == 1 and "t.png: transparency dropped: .jpg has no alpha" in err
    assert load_image(tmp_path / "png" / "t.png").alpha.max() == 90
