"""Colour from a reference photo: matching (autocolor.reference), the API, CLI, video, server and page."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import colourful, png_bytes
from PIL import Image

from autocolor import reference
from autocolor.hints import Hint
from autocolor.io import ImageError
from autocolor.metrics import psnr
from autocolor.pipeline import Colorizer
from autocolor.reference_eval import crop_pair, pairs

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def colorizer():
    return Colorizer.from_pretrained()


def painted(name: str = "stdlib-dust-bowl-home.jpg", size: int = 480) -> np.ndarray:
    """A real (black-and-white) photo painted with colours no model would guess: its own lightness, a blue
    sky-like top and a red ground-like bottom, so a result can only be close to it by taking the colours from
    a reference."""
    from skimage.color import lab2rgb, rgb2lab

    im = Image.open(EXAMPLES / name).convert("RGB")
    im.thumbnail((size, size))
    lab = rgb2lab(np.asarray(im))
    h = lab.shape[0]
    top = (np.arange(h) < h // 2)[:, None]
    lab[..., 1] = np.where(top, -5.0, 45.0)
    lab[..., 2] = np.where(top, -45.0, 25.0)
    return (np.clip(lab2rgb(lab), 0, 1) * 255).round().astype(np.uint8)


def test_a_reference_of_the_same_scene_gives_its_colours(colorizer):
    truth = painted()
    ref, target = crop_pair(truth)
    auto = colorizer.colorize(target)
    steered = colorizer.colorize(target, reference=ref)
    assert "reference_confidence" not in auto.info
    assert steered.info["reference_confidence"] >= reference.MIN_CONFIDENCE
    gain = psnr(np.asarray(steered), target) - psnr(np.asarray(auto), target)
    assert gain > 3.0, gain


def test_a_reference_that_matches_nothing_is_left_alone(colorizer):
    target = crop_pair(painted())[1]
    noise = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    steered = colorizer.colorize(target, reference=noise)
    assert steered.info["reference_confidence"] < reference.MIN_CONFIDENCE
    assert np.array_equal(np.asarray(steered), np.asarray(colorizer.colorize(target)))


def test_the_users_hints_win_where_both_speak(colorizer):
    truth = painted()
    ref, target = crop_pair(truth)
    h, w = target.shape[:2]
    x, y = w // 2, h // 4  # in the blue top half of the reference's colours
    out = np.asarray(colorizer.colorize(target, reference=ref, hints=[Hint(x, y, "#ff8000")]))
    near = out[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3).mean(axis=0)
    assert near[0] > near[2] + 20, near  # orange, not the reference's blue


def test_one_reference_made_once_colours_many_photos(colorizer):
    truth = painted()
    ref = colorizer.reference(crop_pair(truth)[0])
    assert isinstance(ref, reference.Reference) and colorizer.reference(ref) is ref
    a = colorizer.colorize(crop_pair(truth)[1], reference=ref)
    b = colorizer.colorize(crop_pair(truth)[1], reference=crop_pair(truth)[0])
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_matching_takes_colour_where_features_and_lightness_agree():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(8, 4, 5)).astype(np.float32)
    feats /= np.linalg.norm(feats, axis=0, keepdims=True)
    L = np.full((32, 40), 50.0, np.float32)
    ab = np.zeros((2, 32, 40), np.float32)
    ab[0] = 0.3
    ref = reference.Reference(feats, L, ab)
    same = reference.match(ref, feats, L)
    assert same.used and same.confidence == pytest.approx(1.0)
    assert np.allclose(same.raster[0], 0.3) and np.allclose(same.weight, 1.0)
    darker = reference.match(ref, feats, L - 40.0)  # the same texture, far darker: not the same thing
    assert not darker.used and darker.weight.max() == 0.0


def test_the_exported_graph_gives_the_same_features_as_pytorch():
    pytest.importorskip("torch")
    onnx = Colorizer.from_pretrained(backend="onnx")
    torch_ = Colorizer.from_pretrained(backend="torch")
    x = onnx.network_input(np.linspace(0.2, 0.9, 96 * 128, dtype=np.float32).reshape(96, 128))[None]
    (ab_o, f_o), (ab_t, f_t) = (c.backend.network(x, 1.0, True) for c in (onnx, torch_))
    assert f_o.shape == f_t.shape == (1, 152, 12, 16)
    assert np.abs(f_o - f_t).max() < 1e-3 and np.abs(ab_o - ab_t).max() < 1e-3


def test_a_model_without_encoder_features_refuses_a_reference(tiny_weights):
    c = Colorizer.from_pretrained(tiny_weights)
    with pytest.raises(ValueError, match="cannot match a reference photo"):
        c.colorize(colourful(), reference=colourful(seed=1))


def test_an_unreadable_reference_names_the_file(colorizer, tmp_path):
    bad = tmp_path / "ref.jpg"
    bad.write_bytes(b"not a photo")
    with pytest.raises(ImageError, match="ref.jpg"):
        colorizer.colorize(colourful(), reference=bad)


def test_a_gray_reference_is_refused(colorizer):
    with pytest.raises(ValueError, match="is gray, so it has no colours to give"):
        colorizer.reference(np.full((40, 60), 128, np.uint8))


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "autocolor", *args], cwd=cwd, capture_output=True, text=True)


def test_the_cli_colours_an_album_after_a_reference(tmp_path):
    truth = painted()
    ref, target = crop_pair(truth)
    (tmp_path / "album").mkdir()
    Image.fromarray(ref).save(tmp_path / "ref.png")
    Image.fromarray(target).convert("L").save(tmp_path / "album" / "target.png")
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64), np.uint8)).save(
        tmp_path / "album" / "noise.png"
    )
    r = _cli("colorize", "album", "--reference", "ref.png", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = {Path(e["input"]).name: e for e in map(json.loads, (tmp_path / "out/manifest.jsonl").open())}
    assert "took its colours" in lines["target.png"]["reason"]
    assert "reference not used" in lines["noise.png"]["reason"]
    out = np.asarray(Image.open(tmp_path / "out/target.png").convert("RGB"))
    assert psnr(out, target) > 20


@pytest.mark.parametrize("ref", ["missing.jpg", "notes.txt"])
def test_the_cli_refuses_an_unreadable_reference_in_one_line(tmp_path, ref):
    (tmp_path / "notes.txt").write_text("not a photo")
    Image.fromarray(colourful()).save(tmp_path / "in.png")
    r = _cli("colorize", "in.png", "--reference", ref, "-o", "out", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and ref in r.stderr
    assert r.stderr.startswith("error: reference photo:") and not (tmp_path / "out").exists()


def test_a_film_keeps_the_colours_of_its_reference_frame(colorizer):
    truth = painted(size=320)
    frames = [np.roll(truth, 4 * i, axis=1) for i in range(4)]  # a slow pan
    gray = [f.mean(axis=2).astype(np.uint8) for f in frames]
    auto = list(colorizer.colorize_frames(gray))
    steered = list(colorizer.colorize_frames(gray, reference=frames[0]))
    for f, a, s in zip(frames, auto, steered, strict=True):
        assert psnr(s, f) > psnr(a, f) + 3


def test_pairs_for_measuring(tmp_path):
    rgb = colourful(20, 50)
    ref, target = crop_pair(rgb)
    assert ref.shape == target.shape == (20, 30, 3)
    assert np.array_equal(ref[:, 20:], target[:, :10])  # the middle 20% is in both
    for i in range(3):
        Image.fromarray(colourful(seed=i)).save(tmp_path / f"p{i}.png")
    names = [name for name, _, _ in pairs(sorted(tmp_path.glob("*.png")), "random")]
    assert len(names) == 3 and all(a != b for a, b in (n.split(" <- ") for n in names))


# --- the server and the page ------------------------------------------------------------------------------


def test_the_server_takes_a_reference_and_shows_where_it_matched(colorizer):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from autocolor.server import create_app

    client = TestClient(create_app(colorizer))
    assert client.get("/healthz").json()["reference"] is True
    ref, target = crop_pair(painted())
    files = {
        "file": ("t.png", png_bytes(target), "image/png"),
        "reference": ("r.png", png_bytes(ref), "image/png"),
    }
    r = client.post("/api/colorize", files=files)
    assert r.status_code == 200 and r.headers["X-Reference-Used"] == "1"
    assert float(r.headers["X-Reference-Confidence"]) >= reference.MIN_CONFIDENCE
    assert psnr(np.asarray(Image.open(io.BytesIO(r.content))), target) > 20
    m = client.post("/api/colorize", files=files, data={"overlay": "1"})
    overlay = Image.open(io.BytesIO(m.content))
    assert m.status_code == 200 and overlay.mode == "L" and max(overlay.size) == colorizer.render_size
    bad = {**files, "reference": ("r.jpg", b"not a photo", "image/jpeg")}
    r = client.post("/api/colorize", files=bad)
    assert r.status_code == 415 and "reference r.jpg" in r.json()["error"]


@pytest.mark.browser
@pytest.mark.parametrize("where", ["device", "server"])
def test_a_person_colours_a_photo_after_a_reference_in_the_browser(live_server, browser, tmp_path, where):
    ref, target = crop_pair(painted())
    Image.fromarray(ref).save(tmp_path / "reference.png")
    Image.fromarray(target).convert("L").save(tmp_path / "old photo.png")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors, sent = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: sent.append(r.url) if "/api/colorize" in r.url else None)
    page.goto(live_server + "/")
    page.wait_for_function("window.autocolorLocal && !document.getElementById('on-device').disabled")
    page.set_checked("#on-device", where == "device")  # the photo (and so its reference) stays on the device
    page.set_input_files("#picker", [str(tmp_path / "old photo.png")])
    page.wait_for_selector("article[data-state=done] .reference-button", timeout=60_000)
    before = page.eval_on_selector("img.result", "img => img.src")
    page.set_input_files("[data-testid=reference-input]", [str(tmp_path / "reference.png")])
    page.wait_for_selector("article[data-reference=used] [data-testid=match-map]", timeout=60_000)
    assert page.eval_on_selector("img.result", "img => img.src") != before
    assert "matched" in page.inner_text(".hint-note")
    shot = page.eval_on_selector(
        "img.result",
        """img => { const c = document.createElement("canvas"); c.width = img.naturalWidth;
        c.height = img.naturalHeight; const g = c.getContext("2d"); g.drawImage(img, 0, 0);
        return Array.from(g.getImageData(0, 0, c.width, c.height).data); }""",
    )
    got = np.asarray(shot, dtype=np.uint8).reshape(target.shape[0], target.shape[1], 4)[..., :3]
    assert psnr(got, target) > 20 and errors == []
    assert (sent == []) == (where == "device")  # on the device, neither photo is sent anywhere
    page.close()
