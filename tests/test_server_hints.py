"""Colour hints through the web server: the API's `hints` field, and the page's point editor in a real browser."""

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import colourful, png_bytes
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from autocolor.color import rgb_to_lab, uint8_to_tensor  # noqa: E402
from autocolor.io import LoadedImage  # noqa: E402
from autocolor.pipeline import Colorizer  # noqa: E402
from autocolor.server import create_app  # noqa: E402
from autocolor.upload import RecentImages  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _post(client, hints=None, rgb=None):
    data = {} if hints is None else {"hints": hints if isinstance(hints, str) else json.dumps(hints)}
    files = {"file": ("x.png", png_bytes(colourful(50, 70) if rgb is None else rgb), "image/png")}
    return client.post("/api/colorize", files=files, data=data)


@pytest.fixture(scope="module")
def hint_client(hint_weights):
    return TestClient(create_app(Colorizer.from_pretrained(hint_weights)))


def test_hints_steer_the_result(hint_client):
    assert hint_client.get("/healthz").json()["hints"] is True
    plain = _post(hint_client)
    steered = _post(hint_client, [{"x": 35, "y": 25, "color": "#00ff00"}])
    assert plain.status_code == steered.status_code == 200
    a, b = (np.asarray(Image.open(io.BytesIO(r.content))) for r in (plain, steered))
    assert a.shape == b.shape == (50, 70, 3) and not np.array_equal(a, b)
    assert np.array_equal(a, np.asarray(Image.open(io.BytesIO(_post(hint_client, []).content))))


@pytest.mark.parametrize("hints, words", [("[", "not JSON"), ('{"x": 1}', "expected a JSON list"),
                                          ([{"x": 1, "y": 1, "color": "blue"}], "bad hint colour"),
                                          ([{"x": 1, "y": 1}], "entry 0 must be"),
                                          ([{"x": 70, "y": 1, "color": "#0000ff"}], "outside the image")])  # fmt: skip
def test_bad_hints_are_400_with_a_reason(hint_client, hints, words):
    r = _post(hint_client, hints)
    assert r.status_code == 400 and words in r.json()["error"]


def test_hints_for_a_model_without_hint_inputs_are_400(tiny_weights):
    client = TestClient(create_app(Colorizer.from_pretrained(tiny_weights)))
    assert client.get("/healthz").json()["hints"] is False
    r = _post(client, [{"x": 1, "y": 1, "color": "#0000ff"}])
    assert r.status_code == 400 and "takes no colour hints" in r.json()["error"]


def test_recent_uploads_are_decoded_once():
    cache, calls = RecentImages(max_pixels=2 * 100), []

    def load(tag):
        return lambda: calls.append(tag) or LoadedImage(np.full((10, 10, 3), len(calls), np.uint8))

    first = cache.get(b"a", load("A"))
    assert cache.get(b"a", load("A2")) is first
    cache.get(b"b", load("B")), cache.get(b"c", load("C"))  # 300 pixels > 200: the oldest goes
    assert cache.get(b"a", load("A3")) is not first
    assert calls == ["A", "B", "C", "A3"]


# --- the page's point editor in a real browser, with the bundled model ----------------------------------


def _b_of(rgb: list) -> float:
    """Mean Lab b (yellow +, blue -) of a list of [r, g, b] pixels."""
    arr = np.asarray(rgb, dtype=np.uint8).reshape(1, -1, 3)
    return float(rgb_to_lab(uint8_to_tensor(arr))[0, 2].mean())


_AROUND = """([x, y]) => {  // pixels of the result within 6 px of (x, y), as [[r, g, b], ...]
  const img = document.querySelector("article[data-state=done] img.result");
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext("2d"); g.drawImage(img, 0, 0);
  const d = g.getImageData(x - 6, y - 6, 13, 13).data, out = [];
  for (let i = 0; i < d.length; i += 4) out.push([d[i], d[i + 1], d[i + 2]]);
  return out;
}"""


@pytest.mark.browser
def test_a_person_steers_the_colour_with_a_point(live_server, browser, tmp_path):
    photo = tmp_path / "street.jpg"
    shutil.copy(EXAMPLES / "stdlib-dust-bowl-home.jpg", photo)
    width, height = Image.open(photo).size
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(live_server + "/")
    page.set_input_files("#picker", [str(photo)])
    page.wait_for_selector("article[data-state=done] .hint-toggle", timeout=60_000)
    page.click(".hint-toggle")
    box = page.locator(".hint-layer").bounding_box()
    fx, fy = 0.5, 0.6  # where the point goes, as a fraction of the photo
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.wait_for_selector("article[data-hint-version='1']", timeout=30_000)
    at = [int(fx * width), int(fy * height)]
    before = _b_of(page.evaluate(_AROUND, at))
    page.fill(".hint-color", "#1e50ff")  # a strong blue: Lab b far below zero
    page.wait_for_selector("article[data-hint-version='2']", timeout=30_000)
    after = _b_of(page.evaluate(_AROUND, at))
    assert after < before - 3, (before, after)  # the colour near the point moved towards blue
    # drag the point away: the blue follows it
    dot = page.locator("[data-testid=hint-dot]").bounding_box()
    page.mouse.move(dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.3 * box["height"], steps=5)
    page.mouse.up()
    page.wait_for_selector("article[data-hint-version='3']", timeout=30_000)
    moved = _b_of(page.evaluate(_AROUND, [int(0.2 * width), int(0.3 * height)]))
    assert moved < _b_of(page.evaluate(_AROUND, at)) - 3
    page.click(".hint-delete")
    page.wait_for_selector("article[data-hint-version='4'][data-hints='0']", timeout=30_000)
    assert page.locator("[data-testid=hint-dot]").count() == 0
    # the vividness slider colours the photo again, bolder or more muted
    chroma = []
    for version, value in ((5, "100"), (6, "0")):
        page.locator("[data-testid=vividness]").evaluate(
            "(el, v) => { el.value = v; el.dispatchEvent(new Event('change')); }", value
        )
        page.wait_for_selector(f"article[data-hint-version='{version}']", timeout=60_000)
        rgb = np.asarray(page.evaluate(_AROUND, [width // 2, height // 2]), dtype=float)
        chroma.append(np.abs(rgb - rgb.mean(axis=1, keepdims=True)).mean())
    assert chroma[0] > chroma[1], chroma
    page.close()


def test_vividness_field_changes_the_colour_and_bad_values_are_400():
    client = TestClient(create_app(Colorizer.from_pretrained()))
    assert 0 < client.get("/healthz").json()["vividness"] < 1
    rgb = np.asarray(Image.open(EXAMPLES / "stdlib-dust-bowl-home.jpg").convert("RGB").resize((160, 120)))

    def post(v):
        files = {"file": ("x.png", png_bytes(rgb), "image/png")}
        return client.post("/api/colorize", files=files, data={"vividness": v})

    muted, bold = (np.asarray(Image.open(io.BytesIO(post(v).content))).astype(int) for v in ("0", "1"))
    chroma = lambda a: np.abs(a - a.mean(axis=2, keepdims=True)).mean()  # noqa: E731
    assert chroma(muted) < chroma(bold)
    for bad in ("1.5", "x", "nan"):
        r = post(bad)
        assert r.status_code == 400 and "vividness" in r.json()["error"]


def test_vividness_for_a_model_without_colour_classes_is_400(tiny_weights):
    client = TestClient(create_app(Colorizer.from_pretrained(tiny_weights)))
    assert client.get("/healthz").json()["vividness"] is None
    files = {"file": ("x.png", png_bytes(colourful(50, 70)), "image/png")}
    r = client.post("/api/colorize", files=files, data={"vividness": "0.5"})
    assert r.status_code == 400 and "no colour classes" in r.json()["error"]
