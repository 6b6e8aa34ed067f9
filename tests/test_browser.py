"""Colorizing inside a real browser (Chromium, headless): the page's default path runs the exported ONNX
graphs on the device with onnxruntime-web, sends the photo nowhere, and matches the server's result; the
static site from `autocolor export --site` does the same from a plain static file server."""

import io
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import wait_until
from PIL import Image
from test_server import _post

from autocolor.cli import main

PHOTO = (
    Path(__file__).resolve().parents[1] / "examples" / "stdlib-dust-bowl-home.jpg"
)  # real, black-and-white


def _server_result(url: str, photo: Path, **fields: str) -> np.ndarray:
    status, _, body = _post(url, photo.name, photo.read_bytes(), **fields)
    assert status == 200, body
    return np.asarray(Image.open(io.BytesIO(body)))


def _colorize_in_browser(browser, url: str, photo: Path, saved: Path, options: dict | None = None):
    """Open the page, colorize `photo` on the device, download the result: (result, requests, page facts)."""
    requests: list[str] = []
    page = browser.new_page(accept_downloads=True)
    page.on("pageerror", lambda e: print("page error:", e))
    page.on("request", lambda r: requests.append(r.url))
    failed: list[str] = []  # any answer >= 400 (a 404 for /healthz on a static host, a favicon, ...)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(url + "/")
    assert page.is_checked("#on-device")  # on this device is the default
    page.evaluate("o => Object.assign(window.autocolorLocal.options, o)", options or {})
    page.set_input_files("#picker", [str(photo)])
    page.wait_for_selector("article[data-state]", timeout=120_000)
    assert page.get_attribute("article", "data-state") == "done", page.inner_text("article .status")
    facts = page.evaluate(
        "({isolated: crossOriginIsolated, where: document.getElementById('where').innerText,"
        "  times: window.autocolorLocal.lastTimes, limits: document.getElementById('limits').innerText})"
    )
    facts["failed"] = failed
    with page.expect_download() as info:
        page.click("a.download")
    info.value.save_as(saved)
    facts["sent"] = [u for u in requests if "/api/colorize" in u]  # uploads while on the device: none
    if not page.is_hidden("#on-device"):  # the switch sends the next photo to the server
        page.uncheck("#on-device")
        with page.expect_response("**/api/colorize") as response:
            page.set_input_files("#picker", [str(photo)])
        assert response.value.status == 200
        page.wait_for_selector("article:nth-child(1)[data-state=done]", timeout=120_000)
    page.close()
    print(saved.stem, facts)
    assert Image.open(saved).mode == "RGB"  # no alpha channel added to an opaque photo
    return np.asarray(Image.open(saved)), requests, facts


def _compare(got: np.ndarray, want: np.ndarray, photo: Path) -> None:
    assert got.shape == want.shape == (*Image.open(photo).size[::-1], 3)
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    print(f"mean absolute difference {diff.mean():.4f}, max {diff.max()}")
    # the per-pixel steps run as JavaScript loops on the device and as onnxruntime graphs on the server: the
    # same maths in float64 and float32, so a level apart at most where a value sits on a rounding edge
    assert diff.mean() <= 0.05 and diff.max() <= 2, (
        f"mean absolute difference {diff.mean():.4f}, max {diff.max()}"
    )
    assert np.abs(got[..., 0].astype(int) - got[..., 2].astype(int)).mean() > 1  # it is in colour


@pytest.mark.browser
def test_the_page_colorizes_on_the_device_like_the_server(live_server, browser, tmp_path):
    got, requests, facts = _colorize_in_browser(browser, live_server, PHOTO, tmp_path / "page.png")
    assert facts["sent"] == []  # the photo was not sent
    assert all(u.startswith((live_server + "/", "blob:", "data:")) for u in requests), requests
    assert (
        facts["failed"] == [] and facts["limits"].endswith("megapixels each") and "MB" not in facts["limits"]
    )  # its own limits
    assert facts["isolated"]  # cross-origin isolated: threaded WebAssembly
    _compare(got, _server_result(live_server, PHOTO), PHOTO)


@pytest.mark.browser
def test_a_gray_photo_on_the_device_matches_the_server(live_server, browser, tmp_path):
    """A truly gray photo takes the lookup path for its lightness on both sides."""
    gray = tmp_path / "gray.png"
    Image.open(PHOTO).convert("L").save(gray)
    got, _, facts = _colorize_in_browser(browser, live_server, gray, tmp_path / "gray-page.png")
    assert facts["sent"] == [] and facts["failed"] == []
    _compare(got, _server_result(live_server, gray), gray)


@pytest.mark.browser
def test_the_exported_static_site_colorizes_the_same(live_server, browser, tmp_path):
    photo = tmp_path / "small.jpg"  # smaller, at a small render size: the box reduction and many strips
    Image.open(PHOTO).resize((640, 492), Image.Resampling.LANCZOS).save(photo, quality=92)
    site = tmp_path / "site"
    assert main(["export", "--site", str(site)]) == 0
    assert "http.server" in (site / "README.txt").read_text()  # how to serve it, for whoever gets the folder
    proc = subprocess.Popen(  # port 0: any free port, read back from its first line
        [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(site), "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = "http://127.0.0.1:" + proc.stdout.readline().split(" port ")[1].split()[0]
        wait_until(lambda: urllib.request.urlopen(url + "/index.html", timeout=5).status == 200)
        options = {"renderSize": 128, "stripPixels": 1 << 14}
        got, requests, facts = _colorize_in_browser(browser, url, photo, tmp_path / "site.png", options)
    finally:
        proc.terminate()
        proc.wait(10)
    assert all(u.startswith((url + "/", "blob:", "data:")) for u in requests), requests
    assert facts["sent"] == [] and facts["failed"] == []  # no /healthz, no favicon 404 on a static host
    assert facts["limits"].endswith("megapixels each") and "MB" not in facts["limits"]
    _compare(got, _server_result(live_server, photo, render_size="128"), photo)


@pytest.mark.browser
def test_vividness_on_the_device_matches_the_server(live_server, browser, tmp_path):
    photo = tmp_path / "small.jpg"
    Image.open(PHOTO).resize((480, 369), Image.Resampling.LANCZOS).save(photo, quality=92)
    got, _, facts = _colorize_in_browser(
        browser, live_server, photo, tmp_path / "vivid.png", {"vividness": 0.9}
    )
    assert facts["sent"] == []
    _compare(got, _server_result(live_server, photo, vividness="0.9"), photo)


def test_site_export_refuses_a_folder_that_is_not_a_site(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["export", "--site", str(tmp_path)]) == 2
    assert "not an autocolor site" in capsys.readouterr().err
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_the_page_and_its_runtime_ship_with_the_package():
    """Every file under static/ (page, scripts, onnxruntime-web and its licence) is matched by pyproject's
    package-data, expanded as setuptools does (recursive glob), so a wheel carries it."""
    import glob

    import autocolor
    from autocolor.config import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    root = Path(autocolor.__file__).parent
    shipped = {
        f
        for pattern in pyproject["tool"]["setuptools"]["package-data"]["autocolor"]
        for f in glob.glob(pattern, root_dir=root, recursive=True)
    }
    files = {p.relative_to(root).as_posix() for p in (root / "static").rglob("*") if p.is_file()}
    assert {"static/vendor/onnxruntime-web/LICENSE", "static/local/worker.js", "static/index.html"} <= files
    assert files <= shipped, sorted(files - shipped)


@pytest.mark.browser
def test_the_pages_render_input_is_the_python_front_ends(live_server, browser):
    """static/local/render.js (box reduction + triangle filter, strip by strip) against the Python front end's
    lightness at render size (Colorizer.prepare), on random photos of reduced, extreme-aspect and unchanged
    sizes: same shape, values to float32 rounding."""
    from autocolor.pipeline import Colorizer

    colorizer = Colorizer.from_pretrained(backend="onnx")
    page = browser.new_page()
    page.goto(live_server + "/healthz")  # same origin, without starting the page's colorizer
    for height, width, size in [
        (300, 401, 32),
        (75, 100, 80),
        (1000, 37, 320),
        (37, 1000, 320),
        (64, 64, 64),
    ]:
        rgb = np.random.default_rng(height * width).integers(0, 256, (height, width, 3), dtype=np.uint8)
        prepared = colorizer.prepare(rgb, size)
        got = page.evaluate(
            """async ([data, H, W, size]) => {
              const r = await import("./static/local/render.js");
              const [h, w] = r.renderShape(H, W, size);
              const fx = r.reduceFactor(W, w), fy = r.reduceFactor(H, h);
              const reducer = new r.BoxReducer(H, W, fx, fy);
              const rows = 3 * fy;  // small strips, as the worker uses them
              for (let top = 0; top < H; top += rows) {
                const n = Math.min(rows, H - top);
                reducer.add(Float32Array.from(data.slice(top * W, (top + n) * W)), top, n);
              }
              return [h, w, Array.from(r.resample(reducer.out, reducer.rh, reducer.rw, H / fy, W / fx, h, w))];
            }""",
            [prepared.fy_rows(slice(None)).ravel().tolist(), height, width, size],
        )
        h, w, values = got
        assert (h, w) == prepared.small.shape, (height, width, size)
        got_small = np.array(values, np.float32).reshape(h, w)
        np.testing.assert_allclose(got_small, prepared.small, rtol=0, atol=2e-6, err_msg=f"{height}x{width}")
    page.close()


def test_the_server_serves_the_browser_model_with_its_own_settings(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from autocolor.model_folder import bundled_weights
    from autocolor.pipeline import Colorizer
    from autocolor.server import create_app

    colorizer = Colorizer.from_pretrained(render_size=256)
    client = TestClient(create_app(colorizer, browser_dir=bundled_weights()))
    page = client.get("/")
    for key in ("cross-origin-opener-policy", "cross-origin-embedder-policy"):
        assert page.headers[key] in ("same-origin", "require-corp")  # threads in the browser
    manifest = client.get("/model/manifest.json").json()
    assert manifest["render_size"] == 256 and manifest["in_channels"] == colorizer.in_channels
    graph = client.get("/model/" + manifest["graphs"]["guide"])
    assert graph.status_code == 200 and graph.content == (bundled_weights() / "guide.onnx").read_bytes()
    assert "compose" not in manifest["graphs"]  # the last step runs in JavaScript (compose.js)
    assert client.get("/model/model.safetensors").status_code == 404  # only the graphs are served
    wasm = client.get("/static/vendor/onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm")
    assert wasm.headers["content-type"] == "application/wasm"
    assert (
        "javascript"
        in client.get("/static/vendor/onnxruntime-web/ort.webgpu.min.mjs").headers["content-type"]
    )
    bare = TestClient(create_app(colorizer))  # e.g. --weights of a run without ONNX graphs
    assert bare.get("/model/manifest.json").status_code == 404  # the page then turns its switch off
