"""Hints spread along the lightness (propagate.py): they fill their region, stop at edges, fade with distance."""

import numpy as np
import pytest

from autocolor.pipeline import Colorizer
from autocolor.propagate import domain_transform, propagate_hints


def _scene(h=40, w=80):
    """Lightness: a dark left half and a bright right half; predicted ab: zero (gray) everywhere."""
    L = np.full((h, w), 30.0)
    L[:, w // 2 :] = 70.0
    return L, np.zeros((2, h, w), np.float32)


def _raster(h, w, points, ab=(0.5, -0.3)):
    r = np.zeros((3, h, w), np.float32)
    for y, x in points:
        r[:2, y - 1 : y + 2, x - 1 : x + 2] = np.asarray(ab, np.float32)[:, None, None]
        r[2, y - 1 : y + 2, x - 1 : x + 2] = 1.0
    return r


def test_a_hint_colours_its_region_and_stops_at_the_edge():
    L, ab = _scene()
    out = propagate_hints(ab, L, _raster(40, 80, [(20, 10)]), sigma_s=60, sigma_r=10)
    assert np.allclose(out[:, 20, 10], [0.5, -0.3], atol=0.02)  # the colour asked for, at the point
    left, right = np.abs(out[0, :, 5:38]).mean(), np.abs(out[0, :, 42:]).mean()
    assert left > 0.35 and right < 0.05, (left, right)


def test_far_from_every_hint_the_colour_is_the_models():
    L = np.full((30, 300), 50.0)
    ab = np.zeros((2, 30, 300), np.float32)
    out = propagate_hints(ab, L, _raster(30, 300, [(15, 10)]), sigma_s=20, sigma_r=10)
    assert abs(out[0, 15, 12]) > 0.4 and abs(out[0, 15, 290]) < 0.01


def test_no_hints_or_spreading_off_changes_nothing():
    L, ab = _scene()
    ab += 0.1
    assert propagate_hints(ab, L, np.zeros((3, 40, 80), np.float32), 60, 10) is ab
    assert propagate_hints(ab, L, _raster(40, 80, [(20, 10)]), 0, 10) is ab


def test_domain_transform_keeps_constants_and_smooths_within_regions():
    L, _ = _scene()
    const = np.full((1, 40, 80), 3.0)
    assert np.allclose(domain_transform(const, L, 30, 10), 3.0)
    noise = np.random.default_rng(0).normal(size=(1, 40, 80))
    assert domain_transform(noise, L, 30, 10)[:, :, :38].std() < 0.5 * noise.std()


def test_the_colorizer_spreads_hints_for_any_model(tiny_weights):
    colorizer = Colorizer.from_pretrained(tiny_weights, backend="torch")
    assert not colorizer.takes_hints
    with pytest.raises(ValueError, match="takes no colour hints"):
        colorizer.colorize(np.zeros((40, 60, 3), np.uint8), hints=[(5, 5, "#ff0000")])
    colorizer.hint_spread, colorizer.takes_hints = (40.0, 10.0, 0.25), True
    gray = np.full((40, 60, 3), 120, np.uint8)
    red = np.asarray(colorizer.colorize(gray, hints=[(30, 20, "#c04040")])).astype(int)
    plain = np.asarray(colorizer.colorize(gray)).astype(int)
    assert (red[..., 0] - red[..., 2]).mean() > (plain[..., 0] - plain[..., 2]).mean() + 10
