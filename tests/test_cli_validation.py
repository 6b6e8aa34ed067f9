"""Every user error in the colorize, prepare and evaluate options: one clear line, no traceback, exit 2."""

from __future__ import annotations

import os
import sys
import tempfile

import pytest
from conftest import as_nobody, colourful
from PIL import Image

from autocolor.cli import main


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["colorize", "x.jpg", "--render-size", "0"], "--render-size: must be between 16 and 1024, got 0"),
        (["colorize", "x.jpg", "--render-size", "-8"], "--render-size: must be between 16 and 1024, got -8"),
        (["colorize", "x.jpg", "--render-size", "big"], "--render-size: expected a whole number, got 'big'"),
        (["colorize", "x.jpg", "--max-pixels", "0"], "--max-pixels: must be at least 1, got 0"),
        (["colorize", "x.jpg", "--workers", "0"], "--workers: must be at least 1, got 0"),
        (["evaluate", "--data", "d", "--max-pixels", "0"], "--max-pixels: must be at least 1, got 0"),
        (
            ["evaluate", "--data", "d", "--render-size", "-8"],
            "--render-size: must be between 16 and 1024, got -8",
        ),
        (["evaluate", "--data", "d", "--limit", "0"], "--limit: must be at least 1, got 0"),
        (["prepare", "grayscale", "--original", "a", "--grayscale", "b", "--workers", "0"], "at least 1"),
        (
            ["prepare", "combine", "--original", "a", "--combined", "b", "--size", "4"],
            "--size: must be at least 8",
        ),
    ],
)
def test_bad_numbers_are_refused_by_the_parser(args, words, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2 and len(err) == 1 and words in err[0]


def test_evaluate_missing_data_is_an_error_not_a_nan_table(tmp_path, capsys):
    assert main(["evaluate", "--data", str(tmp_path / "nonexistent")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == f"error: {tmp_path / 'nonexistent'}: no such folder or file"
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", "--data", str(tmp_path / "empty")]) == 2
    assert "no image files found" in capsys.readouterr().err


def test_evaluate_read_only_out_is_one_line():
    root = tempfile.mkdtemp()
    os.chmod(root, 0o755)
    os.mkdir(f"{root}/data")
    Image.fromarray(colourful()).save(f"{root}/data/x.png")
    os.mkdir(f"{root}/ro", 0o555)
    os.chmod(f"{root}/ro", 0o555)
    r = as_nobody([sys.executable, "-m", "autocolor", "evaluate", "--data", "data", "--out", "ro/eval"], root)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip() == "error: ro/eval: cannot write the results there (Permission denied)"


def test_colorize_into_a_read_only_folder_is_one_line():
    root = tempfile.mkdtemp()
    os.chmod(root, 0o755)
    Image.fromarray(colourful()).save(f"{root}/x.png")
    os.mkdir(f"{root}/ro", 0o555)
    os.chmod(f"{root}/ro", 0o555)
    r = as_nobody([sys.executable, "-m", "autocolor", "colorize", "x.png", "-o", "ro/out"], root)
    assert r.returncode == 2, r.stderr
    assert (
        r.stderr.strip()
        == "error: ro/out/manifest.jsonl: cannot write the manifest there (Permission denied)"
    )
