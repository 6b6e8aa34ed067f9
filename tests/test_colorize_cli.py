import numpy as np
from conftest import colourful
from PIL import Image

from autocolor.cli import main


def test_folder_glob_and_files_with_failures(photo_dir, tiny_weights, tmp_path, capsys):
    out = tmp_path / "out"
    Image.fromarray(colourful(20, 20)).save(tmp_path / "loose.gif")  # no GIF writer: PNG
    rc = main(
        [
            "colorize",
            str(photo_dir),
            str(tmp_path / "*.gif"),
            str(tmp_path / "missing.jpg"),
            "-o",
            str(out),
            "--weights",
            str(tiny_weights),
            "--side-by-side",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert "broken.jpg" in err and "missing.jpg" in err and "4 written, 2 failed" in err
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert made == [
        "a.jpg",
        "a.side-by-side.jpg",
        "loose.png",
        "loose.side-by-side.png",
        "manifest.jsonl",
        "sub/b.png",
        "sub/b.side-by-side.png",
        "sub/deeper/c.jpg",
        "sub/deeper/c.side-by-side.jpg",
    ]
    a = Image.open(out / "a.jpg")
    assert a.size == Image.open(photo_dir / "a.jpg").size
    assert Image.open(out / "a.side-by-side.jpg").size == (2 * a.size[0], a.size[1])


def test_all_good_exits_zero_and_format_option(tmp_path, tiny_weights, capsys):
    Image.fromarray(colourful()).save(tmp_path / "x.png")
    rc = main(
        [
            "colorize",
            str(tmp_path / "x.png"),
            "-o",
            str(tmp_path / "o"),
            "--weights",
            str(tiny_weights),
            "--format",
            "jpg",
            "--render-size",
            "32",
        ]
    )
    assert rc == 0 and (tmp_path / "o" / "x.jpg").is_file()
    assert "1 written, 0 failed" in capsys.readouterr().err


def test_never_overwrites_an_input(tmp_path, tiny_weights, capsys):
    src = tmp_path / "x.png"
    Image.fromarray(colourful()).save(src)
    before = src.read_bytes()
    rc = main(["colorize", str(src), "-o", str(tmp_path), "--weights", str(tiny_weights)])
    assert rc == 1 and "is the input itself" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_odd_modes_in_a_folder(tmp_path, tiny_weights):
    src = tmp_path / "in"
    src.mkdir()
    base = Image.fromarray(colourful())
    base.convert("CMYK").save(src / "cmyk.jpg")
    base.convert("P").save(src / "pal.png")
    base.convert("LA").save(src / "la.png")
    Image.fromarray(np.asarray(base.convert("L")).astype(np.uint16) * 257).save(src / "g16.png")
    rc = main(["colorize", str(src), "-o", str(tmp_path / "out"), "--weights", str(tiny_weights)])
    assert rc == 0
    for name in ("cmyk.jpg", "pal.png", "la.png", "g16.png"):
        assert Image.open(tmp_path / "out" / name).size == (64, 48)


def test_no_bundled_weights_message(tmp_path, capsys, monkeypatch):
    import autocolor.pipeline as pipeline

    monkeypatch.setattr(pipeline, "bundled_weights", lambda: tmp_path)
    Image.fromarray(colourful()).save(tmp_path / "x.png")
    assert main(["colorize", str(tmp_path / "x.png"), "-o", str(tmp_path / "o")]) == 2
    assert "no default weights are bundled" in capsys.readouterr().err


def test_unavailable_device_is_a_clear_error(tmp_path, tiny_weights, capsys):
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    Image.fromarray(colourful()).save(tmp_path / "x.png")
    rc = main(["colorize", str(tmp_path / "x.png"), "--weights", str(tiny_weights), "--device", "cuda"])
    assert rc == 2 and "CUDA is not available" in capsys.readouterr().err
