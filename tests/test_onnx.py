"""ONNX export and the onnxruntime backend: same pictures as PyTorch, and colorizing without importing torch."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import colourful, real_photos
from PIL import Image

import autocolor
from autocolor.backends import choose_backend
from autocolor.colorspace import srgb_to_fy
from autocolor.composer import Compose, Guide
from autocolor.model_folder import COMPOSER_GRAPHS, bundled_weights
from autocolor.pipeline import Colorizer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_onnx(tiny_weights, tmp_path_factory):
    """The tiny model exported with the CLI (generator + colour-path graphs + config)."""
    from autocolor.cli import main

    out = tmp_path_factory.mktemp("onnx") / "tiny"
    assert main(["export", "--weights", str(tiny_weights), "--onnx", str(out), "--render-size", "48"]) == 0
    return out


def _diff(a, b) -> np.ndarray:
    return np.abs(np.asarray(a).astype(int) - np.asarray(b).astype(int))


def test_export_writes_config_and_graphs(tiny_onnx, tiny_weights):
    cfg = json.loads((tiny_onnx / "config.json").read_text())
    assert cfg["render_size"] == 48 and cfg["num_downs"] == 4
    for name in ("generator", *COMPOSER_GRAPHS):
        assert (tiny_onnx / f"{name}.onnx").stat().st_size > 0
    assert choose_backend(tiny_onnx) == "onnx" and choose_backend(tiny_weights) == "torch"


@pytest.mark.parametrize("size", [(1, 1), (37, 301), (100, 64)])
def test_onnx_matches_torch_on_small_images(tiny_onnx, tiny_weights, size):
    w, h = size
    rgb = np.asarray(Image.fromarray(colourful(80, 80, 3)).resize((w, h)))
    onnx = Colorizer.from_pretrained(tiny_onnx, backend="onnx")
    ref = Colorizer.from_pretrained(tiny_weights, backend="torch", render_size=48)
    a, b = onnx.colorize(rgb), ref.colorize(rgb)
    assert a.size == (w, h) and onnx.backend.name == "onnx" and ref.backend.name == "torch"
    d = _diff(a, b)
    assert d.mean() <= 0.5 and d.max() <= 3


def test_generator_graph_has_dynamic_batch_and_size(tiny_onnx, tiny_weights):
    from autocolor.backends import OnnxBackend
    from autocolor.checkpoint import load_pretrained
    from autocolor.model_folder import read_config

    backend = OnnxBackend(tiny_onnx, read_config(tiny_onnx))
    model = load_pretrained(tiny_weights)
    for shape in [(1, 1, 16, 16), (3, 1, 32, 80)]:
        x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(x)).numpy()
        assert np.abs(backend.network(x) - ref).max() < 1e-4


def test_bundled_onnx_agrees_with_bundled_torch_on_a_real_photo():
    path = real_photos("val", 1)[0]
    onnx = Colorizer.from_pretrained(backend="onnx")
    ref = Colorizer.from_pretrained(backend="torch")
    d = _diff(onnx.colorize(path), ref.colorize(path))
    assert d.mean() <= 0.5 and d.max() <= 3


def test_composer_graphs_match_the_modules():
    """The bundled colour-path graphs are exports of composer.py as it is now (re-export if this fails)."""
    import onnxruntime as ort

    rng = np.random.default_rng(1)
    run = {n: ort.InferenceSession(str(bundled_weights() / f"{n}.onnx")).run for n in COMPOSER_GRAPHS}
    fy = srgb_to_fy(rng.integers(0, 256, (9, 31, 3), dtype=np.uint8))
    with torch.no_grad():
        ab = rng.uniform(-1, 1, (2, 4, 6)).astype(np.float32)
        small = rng.uniform(0.2, 1, (4, 6)).astype(np.float32)
        s = {"gain": np.array(1.2, np.float32), "radius": np.array(1), "eps": np.array(1e-3, np.float32)}
        coef = run["guide"](None, {"ab": ab, "fy": small, **s, "row": fy[0]})[0]
        ref = Guide()(*map(torch.as_tensor, (ab, small, *s.values(), fy[0]))).numpy()
        assert coef.shape == (4, 4, 31) and np.abs(coef - ref).max() < 1e-3
        top, height = np.array(3), np.array(9)
        out = run["compose"](None, {"fy": fy[3:7], "coef": coef, "top": top, "height": height})[0]
        ref = Compose()(*map(torch.as_tensor, (fy[3:7], coef, top, height))).numpy()
        assert out.shape == (4, 31, 4) and out.dtype == np.uint16 and _diff(out, ref).max() <= 1
        assert np.array_equal(out[..., 3], out[..., 1])  # the 4th value of each pixel is G again


def test_colorizing_does_not_import_torch(tmp_path):
    """CLI, Python API and the server module colorize through onnxruntime without importing PyTorch."""
    photo = sorted((ROOT / "examples").glob("*.jpg"))[0]
    code = f"""
import sys
from autocolor.cli import main
from autocolor import Colorizer
import autocolor.server
assert main(["colorize", {str(photo)!r}, "-o", {str(tmp_path / "out")!r}, "--side-by-side"]) == 0
c = Colorizer.from_pretrained()
assert c.backend.name == "onnx", c.backend.name
c.colorize({str(photo)!r})
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "kornia", "safetensors", "skimage"))
print(bad)
sys.exit(1 if bad else 0)
"""
    src = str(Path(autocolor.__file__).resolve().parents[1])  # the autocolor under test, not another install
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert len(list((tmp_path / "out").glob("*.jpg"))) == 2


def test_guided_upsampling_follows_lightness_edges(tiny_onnx):
    """A sharp lightness edge inside one render pixel: guided upsampling keeps the colour on its side of the
    edge, where bilinear upsampling smears it across."""
    c = Colorizer.from_pretrained(tiny_onnx, backend="onnx")
    rgb = np.full((64, 64, 3), 40, np.uint8)
    rgb[:, 33:] = 220
    p = c.prepare(rgb, render_size=16)
    ab = np.zeros((2, 16, 16), np.float32)
    ab[0, :, 8:] = 0.5  # red on the bright half (its edge falls on render column 8)
    plain = c.compose(p, ab, guide_radius=0).rgb.astype(int)
    guided = c.compose(p, ab).rgb.astype(int)  # the default radius and eps

    def redness(im):  # of the dark pixels just left of the edge
        return (im[..., 0] - im[..., 1])[:, 26:33].mean()

    assert redness(guided) < 0.3 * redness(plain)


def test_unknown_backend_and_missing_graphs_are_clear_errors(tiny_weights):
    with pytest.raises(ValueError, match="unknown backend"):
        Colorizer.from_pretrained(tiny_weights, backend="tensorflow")
    with pytest.raises(FileNotFoundError, match="export"):
        Colorizer.from_pretrained(tiny_weights, backend="onnx")


def test_a_hugging_face_hub_id_loads_from_the_hub_cache_offline(tiny_onnx, tmp_path):
    """`Colorizer.from_pretrained("owner/name")` through huggingface_hub, from a cache laid out as the hub lays
    it out (models--owner--name/refs/main -> snapshots/REVISION/...), with the network forbidden."""
    pytest.importorskip("huggingface_hub")
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--old-photos"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    snapshot = repo / "snapshots" / revision
    snapshot.parent.mkdir()
    shutil.copytree(tiny_onnx, snapshot)
    code = (
        "from autocolor import Colorizer\n"
        "import numpy as np\n"
        "c = Colorizer.from_pretrained('someone/old-photos')\n"
        "print(c.backend.name, c.colorize(np.zeros((20, 30), np.uint8)).size)\n"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["onnx", "(30,", "20)"]
    missing = subprocess.run([sys.executable, "-c", code.replace("old-photos", "nothing-here")], env=env,
                             capture_output=True, text=True)  # fmt: skip
    assert missing.returncode == 1 and "not found on the Hugging Face Hub" in missing.stderr


def test_an_exported_folder_carries_a_model_card(tiny_onnx):
    card = (tiny_onnx / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: autocolor\n") and "Colorizer.from_pretrained" in card
    assert "generator.onnx" in card and "render_size" in card


def test_a_folders_own_colour_graphs_are_not_used(tmp_path):
    """The colour-path graphs are this version's code: a model folder written by another version may hold
    older ones (compose.onnx once gave sRGB, now linear levels), so autocolor always runs its installed copies,
    on the server and in the browser."""
    from autocolor.site import browser_model

    folder = tmp_path / "older"
    shutil.copytree(bundled_weights(), folder)
    for name, other in zip(COMPOSER_GRAPHS, COMPOSER_GRAPHS[::-1], strict=True):  # stale, wrong graphs
        shutil.copyfile(bundled_weights() / f"{other}.onnx", folder / f"{name}.onnx")
    photo = colourful(40, 56)
    ours = np.asarray(Colorizer.from_pretrained(folder).colorize(photo))
    assert np.array_equal(ours, np.asarray(Colorizer.from_pretrained().colorize(photo)))
    files, _ = browser_model(folder)
    assert files["generator"] == folder / "generator.onnx"
    assert files["guide"] == bundled_weights() / "guide.onnx" and "compose" not in files
