import contextlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
from conftest import colourful, png_bytes, start_server, wait_until
from PIL import Image

pytest.importorskip("fastapi")
import uvicorn  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from autocolor import webjob  # noqa: E402
from autocolor.cli import build_parser, main  # noqa: E402
from autocolor.pipeline import Colorizer  # noqa: E402
from autocolor.server import ServerLimits, bind, create_app, url_of  # noqa: E402
from autocolor.upload import OVERHEAD_BYTES, label  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _multipart(filename: str, data: bytes, **fields: str) -> tuple[bytes, str]:
    boundary = "autocolorboundary"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    )
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + data
    return body + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _post(url: str, filename: str, data: bytes, **fields: str) -> tuple[int, Message, bytes]:
    body, ctype = _multipart(filename, data, **fields)
    req = urllib.request.Request(url + "/api/colorize", data=body, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@contextlib.contextmanager
def _uvicorn(app):
    """The app on a real uvicorn server on a free loopback port, in this process (so tests can observe it)."""
    sock = bind("127.0.0.1", 0)
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: srv.started, what="uvicorn to start")
    try:
        yield url_of(sock).rstrip("/")
    finally:
        srv.should_exit = True
        thread.join(30)
        sock.close()


@pytest.fixture(scope="module")
def client(tiny_weights):
    limits = ServerLimits(max_upload_bytes=200_000, max_pixels=300_000, concurrency=1)
    return TestClient(create_app(Colorizer.from_pretrained(tiny_weights), limits))


def test_healthz_and_page(client):
    assert client.get("/healthz").json()["status"] == "ok"
    page = client.get("/")
    assert page.status_code == 200 and "Drop photos here" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from outside the server


def test_page_is_served_with_a_restrictive_policy(client):
    r = client.get("/")
    csp = {d.split()[0]: d.split()[1:] for d in r.headers["content-security-policy"].split(";") if d.strip()}
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"][:2] == ["'self'", "'wasm-unsafe-eval'"]
    assert all(s.startswith("'sha256-") for s in csp["script-src"][2:]) and len(csp["script-src"]) == 3
    assert csp["worker-src"] == ["'self'", "blob:"] and csp["connect-src"] == ["'self'"]
    assert (
        csp["frame-ancestors"] == ["'none'"] and "'unsafe-inline'" not in r.headers["content-security-policy"]
    )
    assert not any("http" in s or s == "*" for sources in csp.values() for s in sources)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/healthz").headers["x-content-type-options"] == "nosniff"


def test_api_docs_need_no_cdn_because_they_are_off(client):
    for path in ("/api/docs", "/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 404 and r.json() == {"error": "Not Found"}


def test_colorize_returns_png_of_the_same_size(client):
    r = client.post("/api/colorize", files={"file": ("x.jpg", png_bytes(colourful(50, 70)), "image/png")})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (70, 50)
    r = client.post(
        "/api/colorize",
        files={"file": ("x.png", png_bytes(colourful(50, 70)), "image/png")},
        data={"render_size": "32"},
    )
    assert r.status_code == 200


@pytest.mark.parametrize("name", ["北京の写真.jpg", "東京 1920年.png", "Ünïcödé.jpg"])
def test_file_names_in_any_script(client, name):
    r = client.post("/api/colorize", files={"file": (name, png_bytes(colourful(30, 40)), "image/png")})
    assert r.status_code == 200, r.text
    disposition = r.headers["content-disposition"]
    disposition.encode("latin-1")  # what goes on the wire
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == name.rsplit(".", 1)[0] + ".colorized.png"
    r = client.post("/api/colorize", files={"file": (name, b"not an image", "image/png")})
    assert r.status_code == 415 and r.json()["error"].startswith(name)


def test_file_names_are_labels_never_paths(client, tmp_path):
    real = tmp_path / "real.png"
    Image.fromarray(colourful(40, 40)).save(real)
    r = client.post("/api/colorize", files={"file": (str(real), b"text, not the file on disk", "image/png")})
    assert r.status_code == 415 and r.json()["error"] == "real.png: not an image Pillow can read"
    for name in ("../../etc/passwd.png", "C:\\Users\\me\\passwd.png"):
        r = client.post("/api/colorize", files={"file": (name, png_bytes(colourful(30, 30)), "image/png")})
        assert r.status_code == 200 and 'filename="passwd.colorized.png"' in r.headers["content-disposition"]
    assert label("a/b\x07\n\u202e.png") == "b.png" and label("") == "upload"


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
        payload = png_bytes(np.zeros((700, 700, 3), np.uint8))
    r = client.post("/api/colorize", files={"file": ("bad.jpg", payload, "image/jpeg")})
    assert r.status_code == status and words in r.json()["error"]


def test_corrupt_image_is_400(client):
    data = png_bytes(colourful(80, 80))
    r = client.post("/api/colorize", files={"file": ("cut.png", data[: len(data) // 2], "image/png")})
    assert r.status_code == 400 and "cut.png" in r.json()["error"]


@pytest.mark.parametrize("value", ["100000", "0", "-8", "abc", "3.5"])
def test_bad_render_size_is_400(client, value):
    r = client.post(
        "/api/colorize",
        files={"file": ("x.png", png_bytes(colourful()), "image/png")},
        data={"render_size": value},
    )
    assert r.status_code == 400 and "render_size must be" in r.json()["error"]


def test_malformed_requests_are_json(client):
    assert client.post("/api/colorize", json={"file": "x"}).status_code == 415
    r = client.post("/api/colorize", data={"render_size": "32"}, files={"other": ("x", b"y")})
    assert r.status_code == 400 and "no `file` part" in r.json()["error"]
    body, ctype = _multipart("x.png", png_bytes(colourful()))
    r = client.post("/api/colorize", content=body[:-30], headers={"Content-Type": ctype})
    assert r.status_code == 400 and "closing boundary" in r.json()["error"]
    r = client.get("/api/colorize")
    assert r.status_code == 405 and r.json() == {"error": "Method Not Allowed"}


def test_framework_and_unexpected_errors_are_json(tiny_weights):
    class Broken(Colorizer):
        def colorize(self, image, render_size=None, **kwargs):
            raise RuntimeError("a fault deep inside")

    app = create_app(Broken.from_pretrained(tiny_weights))

    @app.get("/number/{n}")  # any route FastAPI validates: its 422 must use the same shape
    def number(n: int) -> dict:
        return {"n": 1 // (n - 1)}

    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/number/abc")
    assert r.status_code == 422 and "n" in r.json()["error"] and "detail" not in r.json()
    r = client.get("/number/1")  # ZeroDivisionError outside the colorize route
    assert r.status_code == 500 and r.json() == {
        "error": "internal server error (the details are in the server's log)"
    }
    assert r.headers["x-content-type-options"] == "nosniff"
    r = client.post("/api/colorize", files={"file": ("p.png", png_bytes(colourful()), "image/png")})
    assert r.status_code == 500 and r.json()["error"].startswith("p.png: colorizing failed")
    assert "fault deep inside" not in r.text  # details stay in the log


# --- limits and queueing, on a real uvicorn server ------------------------------------------------------


class Gated(Colorizer):
    """The real colorizer, held at a gate so a test can see how many images are inside at once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.inside = self.peak = 0

    def colorize(self, image, render_size=None, hints=None, vividness=None, reference=None):
        with self.lock:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
        try:
            self.open.wait(60)
            return super().colorize(image, render_size, hints, vividness, reference)
        finally:
            with self.lock:
                self.inside -= 1


def test_two_at_a_time_one_waiting_and_the_rest_refused(tiny_weights, monkeypatch):
    decoded = []
    real_load = webjob.load_image
    monkeypatch.setattr(webjob, "load_image", lambda *a, **k: decoded.append(1) or real_load(*a, **k))
    colorizer = Gated.from_pretrained(tiny_weights)
    app = create_app(colorizer, ServerLimits(concurrency=2, queue=1))
    body = png_bytes(colourful(40, 60))
    with _uvicorn(app) as url, ThreadPoolExecutor(3) as pool:
        health = lambda: json.loads(urllib.request.urlopen(url + "/healthz", timeout=10).read())  # noqa: E731
        posts = [pool.submit(_post, url, f"p{i}.png", body) for i in range(3)]
        try:
            wait_until(lambda: colorizer.inside == 2, what="two images inside the colorizer")
            wait_until(lambda: health()["waiting"] == 1, what="one upload waiting")
            assert len(decoded) == 2  # the waiting upload is not decoded yet: it holds only its bytes
            status, headers, content = _post(url, "late.png", body)
            assert status == 503 and "busy" in json.loads(content)["error"]
            assert int(headers["Retry-After"]) >= 1
        finally:
            colorizer.open.set()
        results = [f.result() for f in posts]
    assert [r[0] for r in results] == [200, 200, 200]
    assert colorizer.peak == 2 and len(decoded) == 3


@pytest.fixture
def spool_spy(monkeypatch, tmp_path):
    """Records every temporary file created in this process (Starlette spools uploads with these)."""
    made = []
    for name in ("TemporaryFile", "NamedTemporaryFile", "mkstemp", "SpooledTemporaryFile"):
        real = getattr(tempfile, name)
        monkeypatch.setattr(tempfile, name, lambda *a, _r=real, _n=name, **k: made.append(_n) or _r(*a, **k))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return made


def test_oversized_body_refused_from_content_length_before_reading_it(tiny_weights, spool_spy):
    app = create_app(Colorizer.from_pretrained(tiny_weights), ServerLimits(max_upload_bytes=100_000))
    with _uvicorn(app) as url:
        host, port = url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.putrequest("POST", "/api/colorize")
        conn.putheader("Content-Type", "multipart/form-data; boundary=b")
        conn.putheader("Content-Length", str(50 * 2**20))
        conn.endheaders()  # no body at all: the answer must come from the headers alone
        r = conn.getresponse()
        assert r.status == 413 and "upload limit" in json.loads(r.read())["error"]
        conn.close()
    assert spool_spy == []


def test_oversized_body_refused_while_streaming_before_it_ends(tiny_weights, spool_spy):
    limit = 100_000
    app = create_app(Colorizer.from_pretrained(tiny_weights), ServerLimits(max_upload_bytes=limit))
    with _uvicorn(app) as url:
        host, port = url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.putrequest("POST", "/api/colorize")
        conn.putheader("Content-Type", "multipart/form-data; boundary=b")
        conn.putheader("Transfer-Encoding", "chunked")  # no Content-Length to go by
        conn.endheaders()
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="huge.png"\r\n\r\n'
        sent = 0
        for chunk in [head] + [b"x" * 8192] * ((limit + OVERHEAD_BYTES) // 8192 + 2):
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        # the body never ends (no closing boundary, no last chunk): only a streaming check can answer now
        r = conn.getresponse()
        assert r.status == 413 and "huge.png" not in r.headers.get("Content-Disposition", "")
        assert "upload limit" in json.loads(r.read())["error"] and sent < 2 * (limit + OVERHEAD_BYTES)
        conn.close()
    assert spool_spy == [] and os.listdir(tempfile.gettempdir()) == []


def _trickle(url: str) -> http.client.HTTPConnection:
    """A client that sends its headers and the start of a body, then nothing more (a slow-loris)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.putrequest("POST", "/api/colorize")
    conn.putheader("Content-Type", "multipart/form-data; boundary=b")
    conn.putheader("Content-Length", "100000")
    conn.endheaders()
    conn.send(b"--b\r\n")
    return conn


def test_slow_clients_lose_their_place_and_real_uploads_get_through(tiny_weights):
    limits = ServerLimits(queue=2, upload_grace_s=1.0)
    app = create_app(Colorizer.from_pretrained(tiny_weights), limits)
    with _uvicorn(app) as url:
        slow = [_trickle(url) for _ in range(12)]  # more than the queue's 3 places
        health = lambda: json.loads(urllib.request.urlopen(url + "/healthz", timeout=10).read())  # noqa: E731
        wait_until(lambda: health()["reading"] == 12, what="the slow uploads to be reading")
        status, _, content = _post(url, "real.png", png_bytes(colourful(40, 60)))
        assert status == 200, content  # the slow ones hold no place in the queue
        for conn in slow:
            r = conn.getresponse()
            assert r.status == 408 and "too slowly" in json.loads(r.read())["error"]
            conn.close()
        assert health()["reading"] == 0


def test_an_oversized_upload_gets_its_answer_not_a_reset(tiny_weights):
    limit = 100_000
    app = create_app(Colorizer.from_pretrained(tiny_weights), ServerLimits(max_upload_bytes=limit))
    with _uvicorn(app) as url:
        for _ in range(5):  # a reset comes (or not) by timing: try a few times
            status, _, content = _post(url, "big.png", b"x" * (3 * limit))
            assert status == 413 and "upload limit" in json.loads(content)["error"]


# --- `autocolor serve` as a person starts it ----------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "0"], "--concurrency: must be at least 1, got 0"),
        (["--port", "99999"], "--port: must be between 0 and 65535, got 99999"),
        (["--port", "http"], "--port: expected a whole number, got 'http'"),
        (["--render-size", "0"], "--render-size: must be between 16 and 1024, got 0"),
        (["--render-size", "-8"], "--render-size: must be between 16 and 1024, got -8"),
        (["--max-pixels", "0"], "--max-pixels: must be at least 1, got 0"),
        (["--max-upload-mb", "0"], "--max-upload-mb: must be at least 1, got 0"),
        (["--queue", "-1"], "--queue: must be at least 0, got -1"),
    ],
)
def test_serve_options_are_checked(args, message, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["serve", *args])
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_port_in_use_is_one_clear_line_and_nothing_is_announced(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert "serving at" not in out
    assert err.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: the port is already in use "
        "(another server running? choose another --port)"
    ]


def test_sigterm_stops_the_server_even_with_a_request_in_flight(tiny_weights):
    proc, url, lines = start_server("--weights", str(tiny_weights))
    try:
        stalled = _trickle(url)  # the start of a body, and never the rest
        wait_until(
            lambda: json.loads(urllib.request.urlopen(url + "/healthz", timeout=10).read())["reading"] == 1,
            what="the stalled upload to be read",
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == -signal.SIGTERM, "".join(lines)
        r = stalled.getresponse()
        # answered either way: cut off as too slow (408) or when the stop's grace period ends (503)
        answer = json.loads(r.read())
        assert (r.status, answer["error"].split(" (")[0]) in {
            (503, "the server is stopping"),
            (408, "the upload came too slowly"),
        }, "".join(lines)
        assert "Traceback" not in "".join(lines)
        stalled.close()
    finally:
        proc.kill()
        proc.wait()


def test_concurrent_requests_to_the_real_server(live_server):
    body = png_bytes(colourful(120, 160))

    def post(i):
        status, _, content = _post(live_server, f"c{i}.png", body)
        return status, Image.open(io.BytesIO(content)).size if status == 200 else content

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(post, range(12)))
    # 6 at once: 2 run, the default queue (8) holds the other 4, so nobody is turned away
    assert results == [(200, (160, 120))] * 12


@pytest.mark.browser
def test_a_person_colorizes_a_photo_in_the_browser(live_server, browser, tmp_path):
    photo = tmp_path / "family photo.jpg"
    shutil.copy(EXAMPLES / "stdlib-dust-bowl-home.jpg", photo)  # a real black-and-white photo
    width, height = Image.open(photo).size
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("not a photo")
    page = browser.new_page(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    refused = []  # anything the page's Content-Security-Policy blocked
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(live_server + "/")
    page.set_input_files("#picker", [str(photo), str(not_image)])
    page.wait_for_selector("article[data-state=done] img.result", timeout=60_000)
    page.wait_for_selector("article[data-state=error]", timeout=60_000)
    size = page.eval_on_selector("img.result", "img => [img.naturalWidth, img.naturalHeight]")
    assert size == [width, height]
    assert "not an image" in page.inner_text("article[data-state=error] .status")
    knob = page.evaluate(  # the slider's handle: a round knob one can see and grab, labels on the image
        """() => { const h = document.querySelector('[data-testid=slider-handle]');
        const k = getComputedStyle(h, '::after'); const c = h.parentElement.getBoundingClientRect();
        const t = document.querySelector('.compare .before-tag').getBoundingClientRect();
        const before = document.querySelector('.compare .before');
        return { width: parseFloat(k.width), filter: getComputedStyle(before).filter,
                 tagInside: t.left >= c.left && t.right <= c.right && t.top >= c.top && t.bottom <= c.bottom }; }"""
    )
    assert knob == {"width": 36, "filter": "grayscale(1)", "tagInside": True}
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
    assert page.evaluate("window.crossOriginIsolated")  # SharedArrayBuffer available for WebAssembly
    page.close()
    assert refused == []
    assert shot.stat().st_size > 10_000
