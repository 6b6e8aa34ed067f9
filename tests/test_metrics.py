import json
import math

import numpy as np
import pytest
from conftest import colourful

from autocolor.color import gray_uint8
from autocolor.evaluate import evaluate, gallery_picks
from autocolor.metrics import ab_auc, ciede2000, colorfulness, psnr, ssim


def test_psnr_hand_computed():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 10  # MSE = 100 / 48
    assert psnr(b, a) == pytest.approx(10 * math.log10(255**2 / (100 / 48)), rel=1e-9)
    assert psnr(a, a) == math.inf


def test_colorfulness_known_statistics():
    assert colorfulness(np.full((8, 8, 3), 77, np.uint8)) == 0.0
    img = np.zeros((2, 2, 3), np.uint8)
    img[..., 0] = 100  # rg = 100 everywhere, yb = 50: no spread, mean (100, 50)
    assert colorfulness(img) == pytest.approx(0.3 * math.hypot(100, 50))
    half = np.zeros((2, 2, 3), np.uint8)
    half[0, :, 0] = 200  # rg in {200, 0}: std 100, yb in {100, 0}: std 50; means 100 and 50
    assert colorfulness(half) == pytest.approx(math.hypot(100, 50) + 0.3 * math.hypot(100, 50))


def test_auc_perfect_is_one_and_gray_is_below():
    truth = colourful(32, 32)
    assert ab_auc(truth, truth) == 1.0
    assert ab_auc(gray_uint8(truth), truth) < 0.95
    assert ciede2000(truth, truth) == 0.0 and ciede2000(gray_uint8(truth), truth) > 5
    assert ssim(truth, truth) == pytest.approx(1.0)


def test_gallery_rule():
    assert gallery_picks(40) == [0, 5, 10, 15, 20, 25, 30, 35]
    assert gallery_picks(3) == [0, 1, 2]


def test_evaluate_end_to_end(photo_dir, tiny_weights, tmp_path):
    out = tmp_path / "eval"
    summary = evaluate(photo_dir, [f"tiny={tiny_weights}", str(tiny_weights)], out=out)
    rows = summary["rows"]
    assert list(rows) == ["gray", "tiny", "run/generator"]
    assert rows["gray"]["images"] == 3 and rows["gray"]["colorfulness"] == 0.0
    assert rows["tiny"]["colorfulness"] > 0
    assert len(summary["skipped"]) == 1 and "broken.jpg" in summary["skipped"][0]["file"]
    saved = json.loads((out / "summary.json").read_text())
    assert saved["rows"]["tiny"]["psnr"] == pytest.approx(rows["tiny"]["psnr"])
    lines = (out / "per_image.csv").read_text().splitlines()
    assert (
        lines[0] == "file,model,psnr,ssim,ciede2000,colorfulness,colorfulness_truth,auc" and len(lines) == 10
    )
    assert "| gray |" in (out / "summary.md").read_text()
    assert (out / "gallery.png").is_file() and "<img" in (out / "index.html").read_text()
