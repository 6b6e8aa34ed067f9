"""Video: real clips written with PyAV (with an audio track), colorized with a tiny trained generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import colourful
from PIL import Image

av = pytest.importorskip("av")
pytest.importorskip("cv2")

from autocolor.cli import main  # noqa: E402
from autocolor.pipeline import Colorizer  # noqa: E402
from autocolor.video import Stabilizer, VideoError, colorize_video, is_video  # noqa: E402
from autocolor.video.flicker import WarpError  # noqa: E402

W, H, FPS, N = 48, 32, 10, 12


def pan_frames(n: int = N, w: int = W, h: int = H, step: int = 2, seed: int = 0) -> list[np.ndarray]:
    """n frames of a camera panning `step` pixels per frame across a colourful picture."""
    big = colourful(h, w + step * n, seed)
    return [np.ascontiguousarray(big[:, i * step : i * step + w]) for i in range(n)]


def make_clip(
    path: Path, frames=None, audio: str | None = "aac", rotation: int = 0, fps: int = FPS, sample_rate=22050
) -> Path:
    """Write frames as H.264 (or MPEG-4 Part 2 in .avi) with a sine tone as long as the video."""
    frames = pan_frames() if frames is None else frames
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        v = out.add_stream("mpeg4" if path.suffix == ".avi" else "libx264", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        if rotation:
            v.set_display_rotation(rotation)
        a = None
        if audio:
            a = out.add_stream(audio, rate=sample_rate)
            a.layout = "mono"
        for rgb in frames:
            for packet in v.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        if a is not None:
            t = np.arange(round(sample_rate * len(frames) / fps)) / sample_rate
            tone = 0.3 * np.sin(2 * np.pi * 440 * t)
            fmt = "u8" if audio == "pcm_u8" else "fltp"
            samples = (tone * 127 + 128).astype(np.uint8) if fmt == "u8" else tone.astype(np.float32)
            for k in range(0, len(samples), 1024):
                frame = av.AudioFrame.from_ndarray(samples[None, k : k + 1024], format=fmt, layout="mono")
                frame.sample_rate, frame.pts = sample_rate, k
                for packet in a.encode(frame):
                    out.mux(packet)
            for packet in a.encode(None):
                out.mux(packet)
        for packet in v.encode(None):
            out.mux(packet)
    return path


def describe(path: Path) -> dict:
    """What a player would see: frames, pts, fps, size, rotation, duration, audio codec, length and bytes."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = list(c.decode(v))
        info = {
            "frames": len(frames),
            "pts": [f.pts * v.time_base for f in frames],
            "fps": v.average_rate,
            "size": (frames[0].width, frames[0].height),
            "rotation": frames[0].rotation,
            "video_codec": v.codec_context.name,
            "audio": None,
        }
    with av.open(str(path)) as c:
        if c.streams.audio:
            a = c.streams.audio[0]
            packets = [p for p in c.demux(a) if p.dts is not None]
            samples = sum(f.samples for p in packets for f in p.decode())
            info["audio"] = a.codec_context.name
            info["audio_seconds"] = samples / a.codec_context.sample_rate
            info["audio_bytes"] = [bytes(p) for p in packets]
    return info


@pytest.fixture(scope="module")
def colorizer(tiny_weights) -> Colorizer:
    return Colorizer.from_pretrained(tiny_weights, render_size=32)


@pytest.mark.parametrize("ext", [".mp4", ".mkv"])
def test_output_keeps_timing_size_rotation_and_audio_bit_exact(colorizer, tmp_path, ext):
    src = make_clip(tmp_path / f"in{ext}", rotation=90)
    result = colorize_video(colorizer, src, tmp_path / f"out{ext}")
    a, b = describe(src), describe(result.path)
    assert result.frames == N and result.notes == []
    assert b["frames"] == a["frames"] == N
    assert b["pts"] == a["pts"] and b["fps"] == a["fps"] == FPS
    assert b["size"] == a["size"] == (W, H)
    assert b["rotation"] == a["rotation"] == 90
    assert b["video_codec"] == "h264"
    assert b["audio"] == "aac" and b["audio_bytes"] == a["audio_bytes"]  # copied, not re-encoded
    assert abs(b["audio_seconds"] - N / FPS) < 1 / FPS
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"in{ext}", f"out{ext}"])


def test_audio_the_container_cannot_take_is_reencoded_and_said_so(tiny_weights, tmp_path, capsys):
    src = make_clip(tmp_path / "in.avi", audio="pcm_u8", sample_rate=8000)
    args = ["colorize", str(src), "-o", str(tmp_path / "o"), "--weights", str(tiny_weights), "--no-stabilize"]
    assert main([*args, "--render-size", "32"]) == 0
    err = capsys.readouterr().err
    assert "in.avi: audio re-encoded to AAC (pcm_u8 cannot be copied into mp4)" in err
    b = describe(tmp_path / "o" / "in.mp4")
    assert b["audio"] == "aac" and b["frames"] == N
    assert abs(b["audio_seconds"] - N / FPS) < 1 / FPS + 1024 / 8000  # plus at most one AAC frame of padding


def test_frames_per_frame_equal_the_photo_path_and_stabilised_ones_differ(colorizer):
    frames = pan_frames()
    per_frame = list(colorizer.colorize_frames(frames, stabilize=False))
    for frame, out in zip(frames, per_frame, strict=True):
        np.testing.assert_array_equal(out, np.asarray(colorizer.colorize(frame)))
    steady = list(colorizer.colorize_frames([Image.fromarray(f) for f in frames]))
    np.testing.assert_array_equal(steady[0], per_frame[0])  # nothing to carry over yet
    assert len(steady) == N and not np.array_equal(steady[-1], per_frame[-1])


def test_stabilizer_removes_flicker_follows_motion_and_resets_at_cuts():
    rng = np.random.default_rng(0)
    frames = pan_frames(n=16, w=96, h=64, step=2)
    grays = [np.asarray(Image.fromarray(f).convert("L")) for f in frames]
    truth = [f[..., :2].astype(np.float32) - 128.0 for f in frames]  # an ab field that moves with the scene
    noisy = [t + rng.normal(0, 20, size=2).astype(np.float32) for t in truth]  # per-frame colour cast
    stab = Stabilizer()
    out = [stab(g, ab) for g, ab in zip(grays, noisy, strict=True)]
    np.testing.assert_array_equal(out[0], noisy[0])
    err_raw = np.mean([np.abs(n - t)[8:-8, 8:-8].mean() for n, t in zip(noisy[8:], truth[8:], strict=True)])
    err_stab = np.mean([np.abs(o - t)[8:-8, 8:-8].mean() for o, t in zip(out[8:], truth[8:], strict=True)])
    assert err_stab < 0.6 * err_raw
    other = np.asarray(Image.fromarray(colourful(64, 96, seed=7)).convert("L")) // 4  # a darker new scene
    cut_ab = rng.normal(0, 5, size=(64, 96, 2)).astype(np.float32)
    np.testing.assert_array_equal(stab(other, cut_ab), cut_ab)
    assert stab.cuts == 1


def test_warp_error_is_zero_for_a_still_scene_and_grows_with_flicker():
    frames = pan_frames(n=6, w=96, h=64, step=1)
    metric = WarpError()
    rng = np.random.default_rng(1)
    for f in frames:
        gray = np.asarray(Image.fromarray(f).convert("L"))
        cast = np.clip(f.astype(np.int16) + rng.integers(-30, 30, size=3), 0, 255).astype(np.uint8)
        metric.add(gray, {"truth": f, "flicker": cast, "still": frames[0]})
    e = metric.result()
    assert metric.pairs == 5 and e["truth"] < 0.3 * e["flicker"]
    still = WarpError()
    for _ in range(3):
        still.add(np.asarray(Image.fromarray(frames[0]).convert("L")), {"x": frames[0]})
    assert still.result()["x"] < 1e-6  # flow on identical frames is zero up to rounding


def test_interrupted_conversion_leaves_no_output(tiny_weights, tmp_path):
    class Interrupted(Colorizer):
        calls = 0

        def predict_ab(self, prepared):
            Interrupted.calls += 1
            if Interrupted.calls == 4:
                raise KeyboardInterrupt
            return super().predict_ab(prepared)

    colorizer = Interrupted.from_pretrained(tiny_weights, render_size=32)
    src = make_clip(tmp_path / "in.mp4")
    with pytest.raises(KeyboardInterrupt):
        colorize_video(colorizer, src, tmp_path / "out.mp4")
    assert [p.name for p in tmp_path.iterdir()] == ["in.mp4"]


def test_batch_mixes_photos_and_videos_and_reports_bad_videos(tiny_weights, tmp_path, capsys):
    inp = tmp_path / "in"
    inp.mkdir()
    Image.fromarray(colourful()).save(inp / "photo.png")
    make_clip(inp / "clip.mkv")
    make_clip(tmp_path / "film.mp4").rename(inp / "film.bin")  # found by probing, not by its name
    good = make_clip(tmp_path / "whole.mp4", frames=pan_frames(n=30)).read_bytes()
    (inp / "cut.mp4").write_bytes(good[: len(good) // 2])  # truncated
    with av.open(str(inp / "sound.mp4"), "w") as out:  # audio only
        a = out.add_stream("aac", rate=22050)
        a.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 22050
        for packet in list(a.encode(frame)) + list(a.encode(None)):
            out.mux(packet)
    assert is_video(inp / "film.bin") and not is_video(inp / "photo.png")
    args = [str(inp), str(inp / "film.bin"), "-o", str(tmp_path / "out"), "--weights", str(tiny_weights)]
    rc = main(["colorize", *args, "--render-size", "32"])
    err = capsys.readouterr().err
    assert rc == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 2
    assert any("cut.mp4" in line for line in lines) and any(
        "sound.mp4: has no video stream" in line for line in lines
    )
    made = sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix != ".jsonl")
    assert made == ["clip.mkv", "film.mp4", "photo.png"]
    assert describe(tmp_path / "out" / "film.mp4")["frames"] == N
    with pytest.raises(VideoError, match="cut.mp4"):
        colorize_video(
            Colorizer.from_pretrained(tiny_weights, render_size=32), inp / "cut.mp4", tmp_path / "x.mp4"
        )


def test_evaluate_video_prints_the_flicker_table(tiny_weights, tmp_path, capsys):
    clip = make_clip(tmp_path / "c.mp4", audio=None)
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    args = ["--video", str(clip), "--video", str(tmp_path / "bad.mp4"), "--weights", str(tiny_weights)]
    assert main(["evaluate", *args, "--render-size", "32"]) == 1
    captured = capsys.readouterr()
    assert "bad.mp4: not a readable video" in captured.err
    out = captured.out
    for row in ("| gray |", "| per-frame |", "| stabilized |", "| truth |", "stabilized / per-frame"):
        assert row in out
