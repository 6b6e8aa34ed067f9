import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import colourful
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from autocolor.pipeline import Colorizer  # noqa: E402
from autocolor.server import ServerLimits, create_app  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _png(rgb) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def client(tiny_weights):
    limits = ServerLimits(max_upload_bytes=200_000, max_pixels=300_000, concurrency=1)
    return TestClient(create_app(Colorizer.from_pretrained(tiny_weights), limits))


def test_healthz_and_page(client):
    assert client.get("/healthz").json()["status"] == "ok"
    page = client.get("/")
    assert page.status_code == 200 and "Drop photos here" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from outside the server


def test_colorize_returns_png_of_the_same_size(client):
    r = client.post("/api/colorize", files={"file": ("x.jpg", _png(colourful(50, 70)), "image/png")})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (70, 50)
    r = client.post(
        "/api/colorize",
        files={"file": ("x.png", _png(colourful(50, 70)), "image/png")},
        data={"render_size": "32"},
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        (b"x" * 200_001, 413, "upload limit"),
        (None, 413, "too large"),  # a small file of too many pixels
        (b"just some text", 415, "not an image"),
        (b"", 415, "empty"),
    ],
)
def test_errors_are_json_with_the_right_status(client, payload, status, words):
    if payload is None:
        payload = _png(np.zeros((700, 700, 3), np.uint8))
    r = client.post("/api/colorize", files={"file": ("bad.jpg", payload, "image/jpeg")})
    assert r.status_code == status and words in r.json()["error"]


def test_corrupt_image_is_400(client):
    data = _png(colourful(80, 80))
    r = client.post("/api/colorize", files={"file": ("cut.png", data[: len(data) // 2], "image/png")})
    assert r.status_code == 400 and "cut.png" in r.json()["error"]


def test_bad_render_size_is_400(client):
    r = client.post(
        "/api/colorize",
        files={"file": ("x.png", _png(colourful()), "image/png")},
        data={"render_size": "100000"},
    )
    assert r.status_code == 400


# --- the real server, in a real browser -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server():
    """`autocolor serve` with the bundled model, started as a person would start it."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "autocolor", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if urllib.request.urlopen(url + "/healthz", timeout=1).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start: " + proc.stdout.read())
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_concurrent_requests_to_the_real_server(live_server):
    body = _png(colourful(120, 160))

    def post(_):
        boundary = "autocolorboundary"
        data = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.png"\r\n'
                f"Content-Type: image/png\r\n\r\n"
            ).encode()
            + body
            + f"\r\n--{boundary}--\r\n".encode()
        )
        req = urllib.request.Request(
            live_server + "/api/colorize",
            data=data,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, Image.open(io.BytesIO(r.read())).size

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(post, range(12)))
    assert results == [(200, (160, 120))] * 12


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.browser
def test_a_person_colorizes_a_photo_in_the_browser(live_server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("no chromium on this machine (install Debian's chromium package; .ci/run does)")
    photo = tmp_path / "family photo.jpg"
    shutil.copy(EXAMPLES / "stdlib-dust-bowl-home.jpg", photo)  # a real black-and-white photo
    width, height = Image.open(photo).size
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("not a photo")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=browser_path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1100, "height": 900}, accept_downloads=True)
        page.goto(live_server + "/")
        page.set_input_files("#picker", [str(photo), str(not_image)])
        page.wait_for_selector("article[data-state=done] img.result", timeout=60_000)
        page.wait_for_selector("article[data-state=error]", timeout=60_000)
        size = page.eval_on_selector("img.result", "img => [img.naturalWidth, img.naturalHeight]")
        assert size == [width, height]
        assert "not an image" in page.inner_text("article[data-state=error] .status")
        page.fill("article[data-state=done] input[type=range]", "20")
        with page.expect_download() as info:
            page.click("a.download")
        download = info.value
        assert download.suggested_filename == "family photo.colorized.png"
        saved = tmp_path / "downloaded.png"
        download.save_as(saved)
        got = Image.open(saved)
        assert got.size == (width, height) and got.mode == "RGB"
        shot = Path(os.environ.get("AUTOCOLOR_SCREENSHOT", tmp_path / "page.png"))
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
