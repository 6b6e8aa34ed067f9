"""Archive-scale batches: resume after a real kill, shards, the manifest, output folders in or around inputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import colourful
from PIL import Image

from autocolor.batch import Manifest, read_manifest
from autocolor.cli import main
from autocolor.scan import Shard

SRC = Path(__file__).resolve().parents[1] / "src"


def _photos(root: Path, n: int, size: int = 64) -> list[Path]:
    paths = []
    for i in range(n):
        p = root / f"d{i % 3}" / f"p{i:03d}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(colourful(size, size, seed=i)).save(p)
        paths.append(p)
    return paths


def _records(path: Path, status: str | None = None) -> list[dict]:
    return [r for r in read_manifest(path) if status is None or r["status"] == status]


def _wait_for(predicate, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, "the batch ended before it could be killed"
        assert time.monotonic() < deadline, "the batch made no progress"
        time.sleep(0.002)


def test_killed_batch_resumes_without_redoing_or_debris(tmp_path, tiny_weights, capsys):
    photos = _photos(tmp_path / "in", 30, size=128)
    out = tmp_path / "out"
    args = ["colorize", str(tmp_path / "in"), "-o", str(out), "--weights", str(tiny_weights)]
    args += ["--workers", "1", "--side-by-side"]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    manifest = out / "manifest.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "autocolor", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(lambda: manifest.is_file() and len(_records(manifest)) >= 6, proc)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    first = {r["input"] for r in _records(manifest, "written")}
    assert 6 <= len(first) < 30
    for made in out.rglob("*.png"):  # whatever has its final name is whole
        with Image.open(made) as im:
            im.load()

    capsys.readouterr()
    assert main(args) == 0  # the same command again
    err = capsys.readouterr().err
    records = _records(manifest)[-30:]  # the second run's 30 lines
    second = {r["input"] for r in records if r["status"] == "written"}
    kept = {r["input"] for r in records if r["status"] == "exists"}
    assert first <= kept and not first & second  # nothing done twice
    assert kept | second == {str(p) for p in photos}
    assert len(kept - first) <= 2  # at most the jobs in flight at the kill: written, not yet recorded
    assert f"{len(second)} written, 0 failed, {len(kept)} already done" in err
    for p in photos:
        rel = p.relative_to(tmp_path / "in")
        for made in (out / rel, out / rel.with_name(f"{p.stem}.side-by-side.png")):
            with Image.open(made) as im:
                im.load()
    assert [p for p in out.rglob(".*")] == []  # no temporary file left


def test_shards_cover_every_photo_once(tmp_path, tiny_weights, capsys):
    photos = _photos(tmp_path / "in", 12)
    out = tmp_path / "out"
    done = []
    for k in (0, 1):
        args = ["colorize", str(tmp_path / "in"), "-o", str(out), "--weights", str(tiny_weights)]
        assert main([*args, "--shard", f"{k}/2", "--render-size", "32"]) == 0
        done.append({r["input"] for r in _records(out / f"manifest.shard-{k}-of-2.jsonl", "written")})
    assert done[0] and done[1] and not done[0] & done[1]
    assert done[0] | done[1] == {str(p) for p in photos}
    assert not (out / "manifest.jsonl").exists()


def test_shard_assignment_is_a_partition():
    rels = [f"folder{i % 7}/photo {i}.jpg" for i in range(2000)]
    owners = [[k for k in range(3) if Shard(k, 3).owns(rel)] for rel in rels]
    assert all(len(o) == 1 for o in owners)
    assert min(sum(o == [k] for o in owners) for k in range(3)) > 550  # roughly even
    assert Shard.parse("2/5") == Shard(2, 5)
    for bad in ("5/5", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(ValueError, match="shard"):
            Shard.parse(bad)


@pytest.mark.parametrize("text", ["2/2", "x", "1/0"])
def test_bad_shard_option_is_one_line(text, capsys):
    with pytest.raises(SystemExit) as info:
        main(["colorize", "x.jpg", "--shard", text])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "--shard" in err.splitlines()[-1] and "Traceback" not in err


def test_rerun_keeps_finished_outputs_and_overwrite_redoes_them(tmp_path, tiny_weights, capsys):
    _photos(tmp_path / "in", 3)
    out = tmp_path / "out"
    args = [
        "colorize",
        str(tmp_path / "in"),
        "-o",
        str(out),
        "--weights",
        str(tiny_weights),
        "--render-size",
        "32",
    ]
    assert main(args) == 0
    first = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}
    capsys.readouterr()
    assert main(args) == 0
    assert "0 written, 0 failed, 3 already done" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.png")} == first
    assert main([*args, "--overwrite"]) == 0
    assert "3 written, 0 failed" in capsys.readouterr().err
    statuses = [r["status"] for r in _records(out / "manifest.jsonl")]
    assert statuses == ["written"] * 3 + ["exists"] * 3 + ["written"] * 3
    assert all(
        set(r) == {"input", "output", "status", "reason", "seconds"}
        for r in read_manifest(out / "manifest.jsonl")
    )


def test_manifest_survives_a_line_cut_short(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"input": "a", "status": "written"}) + '\n{"input": "b", "sta')
    m = Manifest(path)
    m.write("c", "c.png", "written", seconds=1.5)
    m.close()
    assert [r["input"] for r in read_manifest(path)] == ["a", "c"]


@pytest.mark.parametrize("tool", ["colorize", "prepare"])
def test_output_folder_around_the_input_is_refused(tmp_path, tiny_weights, tool, capsys):
    _photos(tmp_path / "photos" / "old", 2)
    if tool == "colorize":
        args = ["colorize", str(tmp_path / "photos" / "old"), "-o", str(tmp_path / "photos")]
        args += ["--weights", str(tiny_weights)]
    else:
        args = ["prepare", "grayscale", "--original", str(tmp_path / "photos" / "old")]
        args += ["--grayscale", str(tmp_path / "photos"), "--workers", "1"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "contains the input folder" in err[0] and "choose an output folder" in err[0]
    assert sorted(p.name for p in (tmp_path / "photos").iterdir()) == ["old"]  # nothing written


@pytest.mark.parametrize("tool", ["colorize", "prepare"])
def test_output_folder_inside_the_input_is_left_out_of_the_scan(tmp_path, tiny_weights, tool, capsys):
    photos = _photos(tmp_path / "photos", 3)
    out = tmp_path / "photos" / "results"
    if tool == "colorize":
        args = ["colorize", str(tmp_path / "photos"), "-o", str(out), "--weights", str(tiny_weights)]
    else:
        args = ["prepare", "grayscale", "--original", str(tmp_path / "photos"), "--grayscale", str(out)]
        args += ["--workers", "1", "--format", "png"]
    assert main(args) == 0 and main(args) == 0
    err = capsys.readouterr().err
    assert "3 written, 0 failed" in err and "0 written, 0 failed, 3 already done" in err
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert made == sorted(p.relative_to(tmp_path / "photos").as_posix() for p in photos)


def test_empty_folder_and_symlink_loop_are_not_a_silent_zero(tmp_path, tiny_weights, capsys):
    (tmp_path / "empty").mkdir()
    os.symlink("loop.jpg", tmp_path / "loop.jpg")
    os.symlink(".", tmp_path / "empty" / "again")  # a folder linking to itself
    args = ["colorize", str(tmp_path / "empty"), str(tmp_path / "loop.jpg"), "-o", str(tmp_path / "out")]
    assert main([*args, "--weights", str(tiny_weights)]) == 1
    err = capsys.readouterr().err
    assert "loop.jpg: symbolic link loop" in err
    assert "empty: no image files in this folder" in err
    assert "again: symbolic link loop" in err
    assert "0 written, 3 failed" in err
