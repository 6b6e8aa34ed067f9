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
