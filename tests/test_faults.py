"""What a demanding user or a hostile input does to a run: sizes out of bounds, interrupts, full disks, two runs
on one folder, hints on videos, an output that is its input, a site written where it cannot be."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import colourful
from PIL import Image

from autocolor import colorize_files as colorize_module
from autocolor.batch import BatchStopped, Manifest, read_manifest
from autocolor.cli import main
from autocolor.colorize_files import colorize_files
from autocolor.hints import MAX_HINTS, Hint
from autocolor.pipeline import Colorizer


@pytest.fixture(scope="module")
def colorizer():
    return Colorizer.from_pretrained()


def _cli(*args, cwd, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "autocolor", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


# --- sizes where they enter -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [100000, 4096, 0, -1, 1.5, True])
def test_render_sizes_out_of_bounds_are_refused_at_the_door(colorizer, size):
    with pytest.raises(ValueError, match="render size must be a whole number from 16 to 1024"):
        colorizer.colorize(np.zeros((64, 64, 3), np.uint8), render_size=size)
    with pytest.raises(ValueError, match="render size"):
        Colorizer(colorizer.backend, render_size=size or -5)


def test_the_cli_refuses_a_render_size_out_of_bounds_in_one_line(tmp_path, capsys):
    Image.fromarray(colourful()).save(tmp_path / "a.png")
    with pytest.raises(SystemExit) as e:
        main(["colorize", str(tmp_path / "a.png"), "--render-size", "100000", "-o", str(tmp_path / "out")])
    assert e.value.code == 2 and "--render-size: must be between 16 and 1024" in capsys.readouterr().err


@pytest.mark.parametrize("shape", [(0, 5, 3), (5, 0), (0, 0, 4)])
def test_empty_arrays_are_a_clear_error(colorizer, shape):
    with pytest.raises(ValueError, match="the image is empty"):
        colorizer.colorize(np.zeros(shape, np.uint8))


def test_millions_of_hints_are_refused_before_any_work(colorizer, tmp_path):
    many = [Hint(1, 1, "#ff0000")] * (MAX_HINTS + 1)
    with pytest.raises(ValueError, match=f"at most {MAX_HINTS}"):
        colorizer.colorize(colourful(), hints=many)
    path = tmp_path / "hints.json"
    path.write_text(json.dumps([{"x": 1, "y": 1, "color": "#ff0000"}] * 5_000_000))
    Image.fromarray(colourful()).save(tmp_path / "a.png")
    start = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "autocolor", "colorize", "a.png", "--hints", "hints.json"],
                       cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 2 and f"at most {MAX_HINTS} points" in r.stderr
    assert time.perf_counter() - start < 30  # a guard against the minutes it took, not a measurement


# --- interrupts ----------------------------------------------------------------------------------------------


def _clip(path: Path, frames: int = 150) -> Path:
    av = pytest.importorskip("av")
    big = colourful(120, 160 + frames, seed=3)
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = 160, 120, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(big[:, i : i + 160]), format="rgb24")
            for packet in v.encode(frame):
                out.mux(packet)
        for packet in v.encode(None):
            out.mux(packet)
    return path


def _started(out: Path, timeout: float = 60) -> None:
    """Wait until the video's partial file exists: frames are being written."""
    deadline = time.monotonic() + timeout
    while not any(out.glob(".*.part")):
        if time.monotonic() > deadline:
            pytest.fail("the video never started")
        time.sleep(0.05)


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_a_video_at_once_and_loses_nothing(tmp_path, presses):
    pytest.importorskip("cv2")
    _clip(tmp_path / "film.mp4")
    out = tmp_path / "out"
    proc = _cli("colorize", "film.mp4", "-o", "out", cwd=tmp_path)
    _started(out)
    start = time.monotonic()
    for _ in range(presses):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.monotonic() - start < 5, err  # within a couple of seconds, not the rest of the clip
    assert "Traceback" not in err and "terminate called" not in err
    left = sorted(p.name for p in out.iterdir())
    if presses == 1:  # no partial file, no output, and the manifest says what happened
        assert left == ["manifest.jsonl"]
        (line,) = read_manifest(out / "manifest.jsonl")
        assert line["status"] == "failed" and "interrupted" in line["reason"]
    else:  # leaving at once may leave the partial file, under the one name the next run reuses
        assert set(left) <= {"manifest.jsonl", ".film.mp4.part"}
    again = _cli("colorize", "film.mp4", "-o", "out", cwd=tmp_path)  # the next run finishes the job
    assert again.wait(300) == 0 and (out / "film.mp4").is_file()
    assert not list(out.glob(".*.part"))


def test_ctrl_c_on_a_photo_batch_leaves_a_manifest_line_for_every_output(tmp_path):
    src = tmp_path / "album"
    src.mkdir()
    for i in range(60):
        Image.fromarray(colourful(240, 320, seed=i)).save(src / f"p{i:02d}.png")
    out = tmp_path / "out"
    proc = _cli("colorize", "album", "-o", "out", cwd=tmp_path)
    deadline = time.monotonic() + 120
    while len(list(out.glob("*.png"))) < 3:
        if time.monotonic() > deadline or proc.poll() is not None:
            pytest.fail("the batch never got going")
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    outputs = sorted(p.name for p in out.glob("*.png"))
    written = sorted(
        Path(r["output"]).name for r in read_manifest(out / "manifest.jsonl") if r["status"] == "written"
    )
    assert outputs == written and 0 < len(outputs) < 60  # stopped early, and nothing written unrecorded
    assert not list(out.glob(".*.part"))


# --- full disks and two runs ----------------------------------------------------------------------------------


def test_a_manifest_on_a_full_disk_stops_the_batch_in_one_line(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    for i in range(3):
        Image.fromarray(colourful(seed=i)).save(tmp_path / f"p{i}.png")
    proc = _cli("colorize", ".", "-o", "out", "--manifest", "/dev/full", cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Traceback" not in err
    assert "cannot write the manifest (No space left on device); stopping" in err


def test_a_full_disk_for_the_outputs_stops_the_batch_and_keeps_the_manifest_whole(
    colorizer, tmp_path, monkeypatch
):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(6):
        Image.fromarray(colourful(seed=i)).save(src / f"p{i}.png")

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(colorize_module, "save_image", full)
    with pytest.raises(BatchStopped, match=r"No space left on device \(.*p\d\.png\): stopping the batch"):
        colorize_files(colorizer, [src], tmp_path / "out", progress=False, workers=1)
    lines = (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()
    assert 1 <= len(lines) <= 3 and all(json.loads(line)["status"] == "failed" for line in lines)


def test_a_second_run_on_the_same_output_folder_is_refused(tmp_path):
    Image.fromarray(colourful()).save(tmp_path / "a.png")
    first = Manifest(tmp_path / "out" / "manifest.jsonl")  # a run in progress holds it
    try:
        proc = _cli("colorize", "a.png", "-o", "out", cwd=tmp_path)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2 and "another autocolor run is writing to this output folder" in err
        assert not (tmp_path / "out" / "a.png").exists()
    finally:
        first.close()
    assert _cli("colorize", "a.png", "-o", "out", cwd=tmp_path).wait(120) == 0  # free again


# --- videos: hints, and an output that is its input ----------------------------------------------------------


def test_hints_apply_to_every_frame_of_a_video(colorizer, tmp_path):
    pytest.importorskip("cv2")
    src = _clip(tmp_path / "film.mp4", frames=6)
    plain = colorizer.colorize_video(src, tmp_path / "plain.mp4")
    hinted = colorizer.colorize_video(src, tmp_path / "hinted.mp4", hints=[Hint(80, 60, "#00ff00")])
    assert plain.frames == hinted.frames == 6
    assert (tmp_path / "plain.mp4").read_bytes() != (tmp_path / "hinted.mp4").read_bytes()
    with pytest.raises(ValueError, match="outside the image"):
        colorizer.colorize_video(src, tmp_path / "bad.mp4", hints=[Hint(500, 60, "#00ff00")])
    assert not (tmp_path / "bad.mp4").exists()


def test_a_video_is_never_written_over_its_input(colorizer, tmp_path):
    src = _clip(tmp_path / "film.mp4", frames=3)
    before = src.read_bytes()
    with pytest.raises(ValueError, match="would overwrite its input"):
        colorizer.colorize_video(src, tmp_path / "." / "film.mp4")
    assert src.read_bytes() == before


# --- the static site ---------------------------------------------------------------------------------------


def test_a_site_where_it_cannot_be_written_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["export", "--site", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["export", "--site", str(tmp_path / "file" / "site")]) == 2
    assert "cannot write the site there (Not a directory)" in capsys.readouterr().err
