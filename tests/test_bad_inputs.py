"""Every kind of bad or odd input (tests/badinputs.py) through colorize, prepare grayscale and the HTTP API:
no traceback, one line (or JSON error) naming each bad file, the rest done, exit status 1, no debris."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from badinputs import LINKS, NOT_SCANNED, build
from PIL import Image

from autocolor.cli import main


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> tuple[Path, dict[str, str | None]]:
    root = tmp_path_factory.mktemp("corpus") / "in"
    return root, build(root)


def _errors_about(err: str, name: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ") and f"/{name}:" in line]


def _check(err: str, expected: dict[str, str | None], names, out: Path, rename=lambda n: n) -> None:
    assert "Traceback" not in err
    for name in names:
        lines, why = _errors_about(err, name), expected[name]
        if why is None:
            assert lines == [], name
            made = out / rename(name)
            with Image.open(made) as im:  # complete, decodable
                im.load()
        else:
            assert len(lines) == 1 and why in lines[0], (name, lines)
            assert not (out / rename(name)).exists()
    debris = [p for p in out.rglob("*") if p.name.startswith(".") or p.name.endswith(".part")]
    assert debris == []


def _png_name(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return name if f".{ext}" in (".jpg", ".png", ".tiff") else f"{stem}.png"


def test_colorize_named_files_and_the_same_file_twice(corpus, tiny_weights, tmp_path, capsys):
    root, expected = corpus
    out = tmp_path / "out"
    args = [str(root / n) for n in expected] + [str(root / "rgba.png")]
    rc = main(["colorize", *args, "-o", str(out), "--weights", str(tiny_weights), "--render-size", "32"])
    err = capsys.readouterr().err
    assert rc == 1
    _check(err, expected, [n for n in expected if n != "rgba.png"], out, _png_name)
    twice = _errors_about(err, "rgba.png")
    assert len(twice) == 1 and "given more than once" in twice[0] and (out / "rgba.png").is_file()
    assert "animated.gif: GIF has 3 frames; used the first" in err
    assert "pages.tiff: TIFF has 3 frames; used the first" in err
    assert "corrupt_exif.jpg: Pillow warns: Tag data larger than file" in err
    with Image.open(out / "exif_rotated.jpg") as im:
        assert im.size == (48, 64)  # turned as EXIF says
    for name in ("rgba.png", "la.png", "palette_transparent.png"):
        with Image.open(out / name) as im:
            assert im.mode in ("RGBA", "LA") and im.getchannel("A").getextrema()[0] < 255, name
    ok = sum(why is None for why in expected.values())
    assert f"{ok} written, {len(expected) - ok + 1} failed" in err


def test_colorize_folder(corpus, tiny_weights, tmp_path, capsys):
    root, expected = corpus
    out = tmp_path / "out"
    rc = main(["colorize", str(root), "-o", str(out), "--weights", str(tiny_weights), "--render-size", "32"])
    err = capsys.readouterr().err
    assert rc == 1
    _check(err, expected, [n for n in expected if n not in NOT_SCANNED], out, _png_name)
    assert not any(n in err for n in NOT_SCANNED)  # not image types: a folder scan leaves them alone


def test_prepare_grayscale_folder(corpus, tmp_path, capsys):
    root, expected = corpus
    out = tmp_path / "gray"
    args = ["prepare", "grayscale", "--original", str(root), "--grayscale", str(out), "--format", "png"]
    rc = main([*args, "--workers", "1"])
    err = capsys.readouterr().err
    assert rc == 1
    names = [n for n in expected if n not in NOT_SCANNED]
    _check(err, expected, names, out, lambda n: n.rpartition(".")[0] + ".png")
    with Image.open(out / "rgba.png") as im:
        assert im.mode == "LA" and im.getchannel("A").getextrema() == (60, 255)  # alpha kept


@pytest.fixture(scope="module")
def client(tiny_weights):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from autocolor.pipeline import Colorizer
    from autocolor.server import ServerLimits, create_app

    app = create_app(Colorizer.from_pretrained(tiny_weights), ServerLimits(max_upload_bytes=4_000_000))
    return TestClient(app, raise_server_exceptions=False)


NON_ASCII = "名前 with spaces é.jpg"


def test_http_api(corpus, client):
    _post_all(corpus, client, [n for n in corpus[1] if n not in LINKS and n != NON_ASCII])


def test_http_api_non_ascii_name(corpus, client):
    _post_all(corpus, client, [NON_ASCII])


def _post_all(corpus, client, names) -> None:
    root, expected = corpus
    wrong = []
    for name in names:
        why = expected[name]
        r = client.post("/api/colorize", files={"file": (name, (root / name).read_bytes(), "image/png")})
        if why is None:
            good = r.status_code == 200 and Image.open(io.BytesIO(r.content)).size[0] >= 1
        else:
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            good = 400 <= r.status_code < 500 and name in body.get("error", "")
        if not good:
            wrong.append((name, r.status_code, r.text[:200]))
    assert wrong == []
