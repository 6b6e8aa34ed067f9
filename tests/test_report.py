import json
from pathlib import Path

import pytest
from conftest import save_photos
from PIL import Image

from autocolor.cli import main
from autocolor.report import read_metrics, series

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "configs" / "tiny.toml")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """A real tiny training run with validation samples."""
    root = tmp_path_factory.mktemp("report")
    data = save_photos(root / "data", 6)
    args = ["train", "--data", str(data), "--val", str(data), "--config", TINY, "--out", str(root / "run")]
    assert main([*args, "--steps", "8", "--batch-size", "2", "--set", "train.val_every=4"]) == 0
    return root / "run"


def test_report_of_a_finished_run(tiny_run, capsys):
    assert main(["report", str(tiny_run)]) == 0
    assert capsys.readouterr().out.strip() == str(tiny_run / "report.html")
    page = (tiny_run / "report.html").read_text()
    assert "src='curves.png'" in page
    for step in (4, 8):
        assert f"src='samples/step_{step:08d}.png'" in page
        assert (tiny_run / "samples" / f"step_{step:08d}.png").is_file()
    curves = Image.open(tiny_run / "curves.png")
    assert curves.format == "PNG" and curves.width > 600 and curves.height > 200
    # the validation table carries the logged numbers
    vals = [r for r in read_metrics(tiny_run) if r["kind"] == "val"]
    assert f"{vals[-1]['psnr']:.4g}" in page


def test_report_of_a_run_in_progress_skips_a_half_written_line(tiny_run, tmp_path, capsys):
    run = tmp_path / "live"
    (run / "samples").mkdir(parents=True)
    lines = (tiny_run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join(lines[:2]) + "\n" + lines[2][:25])
    assert main(["report", str(run)]) == 0
    err = capsys.readouterr().err
    assert "metrics.jsonl:3: not a JSON record" in err
    assert (run / "curves.png").is_file() and "<h2>Samples</h2>" not in (run / "report.html").read_text()


def test_series_keeps_the_last_value_of_a_resumed_step():
    recs = [
        {"step": 5, "kind": "train", "loss_g": 3.0},
        {"step": 10, "kind": "train", "loss_g": 2.0},
        {"step": 10, "kind": "train", "loss_g": 1.5},
        {"step": 10, "kind": "val", "psnr": 20.0},
    ]
    assert series(recs, "train", "loss_g") == ([5, 10], [3.0, 1.5])
    assert series(recs, "val", "loss_g") == ([], [])


def test_report_errors_name_the_folder(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "nope: not a run folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "no metrics yet" in capsys.readouterr().err
    (tmp_path / "empty" / "metrics.jsonl").write_text(json.dumps({"note": "no step"}) + "\n")
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "nothing to plot" in capsys.readouterr().err
