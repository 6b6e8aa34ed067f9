"""Shared fixtures: small synthetic images written to tmp_path, and the real photos in ../shared when present."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"


def colourful(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth, saturated (H, W, 3) uint8 image: gradients plus coloured blobs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([x / w, y / h, 1 - x / w], axis=-1)
    for _ in range(3):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(h / 6, h / 3)
        mask = ((y - cy) ** 2 + (x - cx) ** 2) < r * r
        img[mask] = rng.uniform(0, 1, size=3)
    return (img * 255).round().astype(np.uint8)


def save_photos(folder: Path, n: int, h: int = 72, w: int = 96) -> Path:
    """`n` synthetic colour photos p0.png ... in `folder` (created): a tiny training set."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(colourful(h, w, seed=i)).save(folder / f"p{i}.png")
    return folder


def png_bytes(rgb: np.ndarray) -> bytes:
    """An (H, W[, C]) uint8 array as the bytes of a PNG file (an upload's body)."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def as_nobody(cmd: list[str], cwd) -> subprocess.CompletedProcess:
    """Run `cmd` (with this checkout's sources) as a user without privileges, so write permissions apply even
    when the tests run as root; skipped where that cannot be done.

    As root, the user keeps one capability, CAP_DAC_READ_SEARCH (read any file, enter any folder), so it can
    run this checkout's Python and sources wherever the clone lives, a mode-700 home included; writes still
    meet every permission. Python code that must meet read permissions too starts with DROP_CAPABILITIES."""
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot take permissions away")
        keep = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *keep, *cmd]
    src = str(Path(__file__).resolve().parents[1] / "src")
    return subprocess.run(cmd, cwd=cwd, env={"PYTHONPATH": src}, capture_output=True, text=True)


# For `python -c` code run by as_nobody: give up every capability (after the imports), so reads meet
# permissions too. capset(2) with version 3 and all sets empty; a no-op for a user that has none.
DROP_CAPABILITIES = (
    "import ctypes\n"
    "_hdr, _data = (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()\n"
    "assert ctypes.CDLL(None, use_errno=True).capset(_hdr, _data) == 0\n"
)


def real_photos(split: str = "train", n: int = 4) -> list[Path]:
    files = sorted((SHARED_PHOTOS / split).glob("*.jpg"))
    if not files:
        pytest.skip(f"no real photos at {SHARED_PHOTOS / split}")
    return files[:: max(1, len(files) // n)][:n]


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """A nested folder of colour photos plus one corrupt file and one non-image."""
    root = tmp_path / "photos"
    (root / "sub" / "deeper").mkdir(parents=True)
    Image.fromarray(colourful(48, 64, 1)).save(root / "a.jpg", quality=95)
    Image.fromarray(colourful(64, 40, 2)).save(root / "sub" / "b.png")
    Image.fromarray(colourful(50, 50, 3)).save(root / "sub" / "deeper" / "c.jpg", quality=95)
    (root / "sub" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A generator folder made by a real (tiny, few-step) training run on synthetic photos."""
    from autocolor.config import Config
    from autocolor.train import train

    root = tmp_path_factory.mktemp("tiny")
    data = save_photos(root / "data", 6)
    cfg = Config.load(
        Path(__file__).resolve().parents[1] / "configs" / "tiny.toml",
        ["train.steps=12", "train.val_every=0", "train.checkpoint_every=100", "train.batch_size=2"],
    )
    train(cfg, data, root / "run")
    return root / "run" / "generator"


@pytest.fixture(scope="session")
def hint_weights(tiny_weights, tmp_path_factory) -> Path:
    """The tiny generator widened to take hints, its hint weights set so hints visibly steer the colour."""
    import torch

    from autocolor.checkpoint import load_pretrained, save_pretrained
    from autocolor.models import UNet
    from autocolor.models.unet import add_hint_inputs

    old = load_pretrained(tiny_weights)
    cfg = old.config
    cfg.hints = True
    model = UNet(cfg)
    state = add_hint_inputs(old.state_dict())
    w = state["hint_in.weight"]
    w[:] = torch.randn(w.shape, generator=torch.Generator().manual_seed(0)) * 0.5
    model.load_state_dict(state)
    return save_pretrained(model, tmp_path_factory.mktemp("hint-model") / "generator")


# --- a live server and a real browser, shared by the server, hint, reference and browser tests -------------
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]  # fmt: skip


def wait_until(condition, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds (a guard, not a measurement)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        threading.Event().wait(0.01)


def start_server(*args: str) -> tuple[subprocess.Popen, str, list[str]]:
    """`autocolor serve --port 0 ARGS` in a subprocess; returns it, its URL (from its announcement) and its
    output so far (collected by a thread, so the pipe never fills)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "autocolor", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first = proc.stdout.readline()
    if "serving at" not in first:
        proc.kill()
        pytest.fail("the server did not start: " + first + proc.stdout.read())
    lines = [first]
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    return proc, first.split("serving at ")[1].split()[0].rstrip("/"), lines


@pytest.fixture(scope="session")
def live_server():
    """`autocolor serve` with the bundled model, started as a person would start it."""
    pytest.importorskip("fastapi")
    proc, url, _ = start_server("--concurrency", "2")
    try:
        wait_until(lambda: urllib.request.urlopen(url + "/healthz", timeout=5).status == 200)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright; skipped where either is missing (.ci/run installs both)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium on this machine (install Debian's chromium package; .ci/run does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=BROWSER_ARGS)
        yield b
        b.close()
