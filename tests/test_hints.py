import json

import numpy as np
import pytest
from conftest import colourful

from autocolor.cli import main
from autocolor.colorspace import rgb_to_ab as hint_ab
from autocolor.hints import HINT_SIDE, Hint, check_hints, hint_raster, load_hints, parse_color
from autocolor.pipeline import Colorizer


@pytest.mark.parametrize("good, rgb", [("#b22222", (178, 34, 34)), ("#FFffFF", (255, 255, 255)),
                                        ((0, 128, 255), (0, 128, 255)), ([1, 2, 3], (1, 2, 3))])  # fmt: skip
def test_colours(good, rgb):
    assert parse_color(good) == rgb


@pytest.mark.parametrize("bad", ["b22222", "#b2222", "#gggggg", "red", "#b22222ff", "", None, 7, (256, 0, 0),
                                 (-1, 0, 0), (1.5, 0, 0), (1, 2), (True, 0, 0), ("1", "2", "3")])  # fmt: skip
def test_bad_colours_are_clear_errors(bad):
    with pytest.raises(ValueError, match="bad hint colour"):
        parse_color(bad)


@pytest.mark.parametrize("bad, match", [((float("nan"), 1, "#000000"), "x must be a finite number"),
                                        ((1, float("inf"), "#000000"), "y must be a finite number"),
                                        (("3", 1, "#000000"), "x must be"), ((1, 2), "expected Hint"),
                                        ("1,2,#000000", "expected Hint"), ((1, 2, "#zzzzzz"), "bad hint colour")])  # fmt: skip
def test_bad_hints_are_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        check_hints([bad], 10, 10)


@pytest.mark.parametrize("x, y", [(-1, 0), (10, 0), (0, 8), (0, -0.1), (9.99, 8)])
def test_hints_outside_the_image_are_errors(x, y):
    with pytest.raises(ValueError, match="outside the image"):
        check_hints([Hint(x, y, "#ff0000")], 10, 8)


def test_hint_ab_matches_kornias_lab():
    import torch

    from autocolor.color import rgb_to_lab

    colors = [(0, 0, 0), (255, 255, 255), (178, 34, 34), (10, 200, 90), (3, 4, 250)]
    rgb = torch.tensor(colors, dtype=torch.float32).T[None, :, :, None] / 255.0
    expect = rgb_to_lab(rgb)[0, 1:, :, 0].T.numpy()
    np.testing.assert_allclose(hint_ab(colors), expect, atol=0.05)


def test_hint_ab_is_the_colours_lab_ab():
    ab = hint_ab([(128, 128, 128), (255, 0, 0), (0, 0, 255)])
    assert np.abs(ab[0]).max() < 0.1  # gray: no colour
    assert ab[1, 0] > 70 and ab[1, 1] > 60  # red: a and b positive
    assert ab[2, 1] < -100  # blue: b strongly negative


def test_raster_puts_the_hint_at_its_render_pixel():
    hints = check_hints([Hint(99, 0, "#ff0000"), (50, 40, (0, 0, 255))], 100, 50)
    r = hint_raster(hints, 100, 50, (25, 50), (32, 64))
    assert r.shape == (3, 32, 64) and r.dtype == np.float32
    assert r[2, 0, 49] == 1 and r[2, 20, 25] == 1 and r[2, 0, 49 - HINT_SIDE // 2] == 1
    assert r[2].sum() == 2 * 2 + HINT_SIDE * HINT_SIDE  # the first one is clipped at the top right corner
    np.testing.assert_allclose(r[:2, 0, 49], hint_ab([(255, 0, 0)])[0] / 110, rtol=1e-6)
    assert r[:, 25:].sum() == 0 and r[:, :, 50:].sum() == 0  # padding stays empty


def test_colorize_with_hints_changes_colour_near_the_point(hint_weights):
    colorizer = Colorizer.from_pretrained(hint_weights)
    rgb = colourful(60, 80)
    plain = np.asarray(colorizer.colorize(rgb)).astype(int)
    assert np.array_equal(plain, np.asarray(colorizer.colorize(rgb, hints=[])))
    steered = np.asarray(colorizer.colorize(rgb, hints=[Hint(40, 30, "#00ff00"), (5, 5, (255, 0, 0))]))
    assert steered.shape == plain.shape and np.abs(steered - plain).max() > 0


def test_hints_for_a_model_without_hint_inputs_are_an_error(tiny_weights):
    with pytest.raises(ValueError, match="takes no colour hints"):
        Colorizer.from_pretrained(tiny_weights).colorize(colourful(20, 20), hints=[Hint(1, 1, "#ff0000")])


def test_hint_outside_the_photo_is_an_error(hint_weights):
    with pytest.raises(ValueError, match="outside the image"):
        Colorizer.from_pretrained(hint_weights).colorize(colourful(20, 30), hints=[Hint(30, 1, "#ff0000")])


@pytest.mark.parametrize("content, match", [(None, "cannot read"), ("{not json", "not a JSON hints file"),
                                            ('{"x": 1}', "expected a JSON list"),
                                            ('[{"x": 1, "y": 2}]', "entry 0 must be"),
                                            ('[{"x": 1, "y": 2, "color": "#ff0000", "z": 0}]', "entry 0 must be"),
                                            ('[{"x": 1, "y": 2, "color": [255, 0, 0]}]', "entry 0: color must be"),
                                            ('[{"x": 1, "y": 2, "color": "#ff0000"}, {"x": "a", "y": 2, "color": "#ff0000"}]', "entry 1: bad hint"),
                                            ('[{"x": 1, "y": 2, "color": "red"}]', "entry 0: bad hint colour")])  # fmt: skip
def test_bad_hints_files_name_the_file_and_the_entry(tmp_path, content, match):
    path = tmp_path / "p.hints.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=match) as e:
        load_hints(path)
    assert str(path) in str(e.value)


def test_cli_colorize_with_a_hints_file(hint_weights, tmp_path, capsys):
    from PIL import Image

    photo = tmp_path / "photo.png"
    Image.fromarray(colourful(60, 80)).save(photo)
    hints = tmp_path / "photo.hints.json"
    hints.write_text(json.dumps([{"x": 40, "y": 30, "color": "#00ff00"}]))
    out = tmp_path / "out"
    assert (
        main(["colorize", str(photo), "--weights", str(hint_weights), "-o", str(out), "--hints", str(hints)])
        == 0
    )
    expect = Colorizer.from_pretrained(hint_weights).colorize(photo, hints=load_hints(hints))
    assert np.array_equal(np.asarray(Image.open(out / "photo.png")), np.asarray(expect))
    hints.write_text(json.dumps([{"x": 80, "y": 30, "color": "#00ff00"}]))
    args = ["colorize", str(photo), "--weights", str(hint_weights), "-o", str(out), "--overwrite"]
    assert main([*args, "--hints", str(hints)]) == 1
    assert "outside the image" in capsys.readouterr().err
    hints.write_text("[")
    assert (
        main(["colorize", str(photo), "--weights", str(hint_weights), "-o", str(out), "--hints", str(hints)])
        == 2
    )
    assert f"{hints}: not a JSON hints file" in capsys.readouterr().err
    assert main(["colorize", str(photo), str(photo), "--weights", str(hint_weights), "-o", str(out),
                 "--hints", str(hints)]) == 2  # fmt: skip
    assert "one photo" in capsys.readouterr().err


def test_simulated_point_hints_are_deterministic_and_inside_the_photo():
    from autocolor.hint_sim import simulate_point_hints

    truth = colourful(50, 70)
    a, b = simulate_point_hints(truth, 10, 7), simulate_point_hints(truth, 10, 7)
    assert a == b and len(a) == 10 and simulate_point_hints(truth, 10, 8) != a
    assert len(check_hints(a, 70, 50)) == 10
    x, y, rgb = simulate_point_hints(truth, 1, 3)[0]
    assert np.abs(np.array(rgb) - truth[int(y), int(x)]).max() < 60  # about the colour at that point


def test_evaluate_with_hints_adds_one_row_per_count(photo_dir, hint_weights, tiny_weights, tmp_path, capsys):
    out = tmp_path / "eval"
    args = ["evaluate", "--data", str(photo_dir), "--weights", f"h={hint_weights}", "--weights",
            f"plain={tiny_weights}", "--hints", "0,1,5", "--out", str(out)]  # fmt: skip
    assert main(args) == 1  # the photo folder holds one broken file
    rows = json.loads((out / "summary.json").read_text())["rows"]
    assert list(rows) == ["gray", "h", "h +1 hints", "h +5 hints", "plain"]  # plain takes no hints
    assert all(r["images"] == 3 and 0 <= r["below_gray"] <= 3 for r in rows.values())
    assert rows["h +5 hints"]["psnr"] != rows["h"]["psnr"]
    assert (out / "hints.png").stat().st_size > 1000
    assert "| h +5 hints |" in capsys.readouterr().out
    main(args[:-2] + ["--out", str(tmp_path / "again")])
    again = json.loads((tmp_path / "again" / "summary.json").read_text())["rows"]
    assert again == rows  # same simulated points every run


@pytest.mark.parametrize("bad", ["1,x", "-1", ""])
def test_evaluate_rejects_bad_hint_counts(photo_dir, bad, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--data", str(photo_dir), "--hints", bad])
    assert "--hints" in capsys.readouterr().err
