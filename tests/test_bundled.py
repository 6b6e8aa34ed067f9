"""The default model that ships inside the package: it loads offline and really colours a photo."""

import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autocolor.metrics import colorfulness
from autocolor.pipeline import Colorizer, bundled_weights


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_bundled_weights_are_small_enough():
    weights = bundled_weights() / "model.safetensors"
    assert weights.is_file() and weights.stat().st_size <= 25 * 1024 * 1024
    assert (bundled_weights() / "config.json").is_file()


def test_default_model_loads_without_network_and_colours_a_real_photo(no_network):
    colorizer = Colorizer.from_pretrained()
    path = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.jpg"))[0]  # an old B&W photo
    out = colorizer.colorize(path)
    assert out.size == Image.open(path).size
    assert colorfulness(np.asarray(out)) > 5  # real colour, not gray


# --- the v3 model's controls: vividness and colour hints, on real photos ----------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def bundled():
    return Colorizer.from_pretrained()


def _colour_photo() -> np.ndarray:
    """A real colour photo from ../shared when present, else an example photo tinted blue on the left and
    orange on the right (a truth the model cannot guess, so hints have something to tell it)."""
    from conftest import SHARED_PHOTOS

    files = sorted((SHARED_PHOTOS / "val").glob("*.jpg"))
    if files:
        return np.asarray(Image.open(files[len(files) // 2]).convert("RGB"))
    gray = np.asarray(Image.open(EXAMPLES / "stdlib-nagasaki-boats.jpg").convert("L"), dtype=float)
    tint = np.ones((*gray.shape, 3))
    half = gray.shape[1] // 2
    tint[:, :half] = (0.75, 0.9, 1.2)
    tint[:, half:] = (1.2, 0.95, 0.7)
    return np.clip(gray[..., None] * tint, 0, 255).astype(np.uint8)


def test_colourfulness_rises_with_vividness_over_its_whole_range(bundled):
    assert bundled.has_classes and 0 < bundled.vividness < 1
    photo = EXAMPLES / "stdlib-french-alpine-landscape.jpg"
    levels = [0.0, 0.25, 0.5, 0.75, 1.0]
    cf = [colorfulness(np.asarray(bundled.colorize(photo, vividness=v))) for v in levels]
    assert all(a < b for a, b in zip(cf, cf[1:], strict=False)), cf
    assert np.array_equal(
        np.asarray(bundled.colorize(photo)), np.asarray(bundled.colorize(photo, vividness=bundled.vividness))
    )


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_vividness_outside_its_range_is_refused(bundled, bad):
    with pytest.raises(ValueError, match="vividness must be between 0 and 1"):
        bundled.colorize(np.zeros((8, 8), np.uint8), vividness=bad)


def test_ten_hints_from_the_truth_bring_the_colour_closer(bundled):
    from autocolor.hint_sim import simulate_point_hints
    from autocolor.io import LoadedImage
    from autocolor.metrics import psnr

    truth = _colour_photo()
    gray = LoadedImage(np.repeat(np.asarray(Image.fromarray(truth).convert("L"))[..., None], 3, 2))
    auto = psnr(bundled.colorize_loaded([gray])[0].rgb, truth)
    gains = []
    for seed in range(5):
        hints = [simulate_point_hints(truth, 10, seed)]
        gains.append(psnr(bundled.colorize_loaded([gray], hints=hints)[0].rgb, truth) - auto)
    assert np.mean(gains) > 0.2, gains


def test_cli_vividness(tmp_path):
    from autocolor.cli import main

    photo = EXAMPLES / "stdlib-dust-bowl-home.jpg"
    outs = {}
    for v in ("0.1", "0.9"):
        assert main(["colorize", str(photo), "-o", str(tmp_path / v), "--vividness", v]) == 0
        outs[v] = colorfulness(np.asarray(Image.open(tmp_path / v / photo.name)))
    assert outs["0.1"] < outs["0.9"]
    with pytest.raises(SystemExit):
        main(["colorize", str(photo), "-o", str(tmp_path / "x"), "--vividness", "2"])
