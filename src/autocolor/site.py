"""Colorizing in the browser: the model files a web page needs, and `autocolor export --site DIR`.

The page (static/index.html + static/local/*.js) runs the exported ONNX graphs with onnxruntime-web
(static/vendor/onnxruntime-web, bundled: nothing is fetched from outside). It finds them under `model/`
beside the page:

    model/manifest.json   {"graphs": {name: file}, "render_size", "multiple", "in_channels", "chroma_gain",
                           "guide_radius", "guide_eps", "max_pixels", "vividness" (null for a model
                           without colour classes; the generator then takes no "temperature" input),
                           "reference" (reference.py's settings; null when the generator has no features),
                           "luminance", "gray_lightness", "xyz_to_linear" (colorspace's constants for the
                           per-pixel steps, which run in JavaScript: static/local/colour.js)}
    model/*.onnx          generator, guide

`autocolor serve` serves them from the model it runs; `export_site` writes the page, the runtime and the
model into one folder that any static web server can serve (no Python at run time).
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from . import reference
from .colorspace import gray_fy, input_channels, luminance, xyz_to_linear
from .config import temperature_to_vividness
from .io import DEFAULT_MAX_PIXELS
from .model_folder import GENERATOR_ONNX, bundled_weights, read_config

# the per-pixel steps run in JavaScript on the device (static/local/colour.js): no compose.onnx there
GRAPHS = {"generator": GENERATOR_ONNX, "guide": "guide.onnx"}
# Threaded WebAssembly needs a cross-origin isolated page; without these headers the page runs on one thread.
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}
SITE_UPLOAD_MB = 1024  # the exported page uploads nothing; only the pixel limit applies


def static_dir() -> Path:
    return Path(str(resources.files("autocolor") / "static"))


def find_browser_model(weights: str | Path | None = None) -> Path | None:
    """The folder holding the browser's generator graph for a model folder (None: the bundled model), or None."""
    folder = Path(weights) if weights is not None else bundled_weights()
    return folder if (folder / GENERATOR_ONNX).is_file() else None


def browser_model(onnx_dir: str | Path) -> tuple[dict[str, Path], dict]:
    """(graph name -> file, manifest) for a folder written by `autocolor export --onnx`."""
    onnx_dir = Path(onnx_dir)
    # the model's own generator; the colour-path graphs are this version's (as the Python backend runs them)
    files = {
        name: (onnx_dir if name == "generator" else bundled_weights()) / file for name, file in GRAPHS.items()
    }
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{onnx_dir}: no browser model here (missing {', '.join(missing)}); "
            "write one with `autocolor export --onnx DIR`"
        )
    config = read_config(onnx_dir)
    manifest = {
        "graphs": {name: path.name for name, path in files.items()},
        "render_size": config.render_size,
        "multiple": 2**config.num_downs,
        "in_channels": input_channels(config),  # hint ab + mask come after L
        "chroma_gain": config.chroma_gain,
        "guide_radius": config.guide_radius,
        "guide_eps": config.guide_eps,
        # colorspace's constants for the per-pixel steps in JavaScript (colour.js)
        "luminance": luminance().tolist(),
        "gray_lightness": gray_fy().tolist(),  # a gray pixel's lightness: srgb_to_fy's own values
        "xyz_to_linear": xyz_to_linear().tolist(),
        "max_pixels": DEFAULT_MAX_PIXELS,
        "vividness": temperature_to_vividness(config.temperature) if config.classes else None,
        # matching a reference photo on the device (static/local/reference.js): reference.py's settings, for
        # a generator whose graph answers its encoder's features; null for one that does not
        "reference": _reference_settings() if _has_features(files["generator"]) else None,
    }
    return files, manifest


def _reference_settings() -> dict:
    names = ("GRID", "LOW", "HIGH", "LIGHTNESS_SIGMA", "MIN_CONFIDENCE", "SIGMA_S", "SIGMA_R", "REACH")
    return {name.lower(): getattr(reference, name) for name in names}


def _has_features(generator: Path) -> bool:
    from .backends import _import_onnxruntime

    ort = _import_onnxruntime()
    session = ort.InferenceSession(str(generator), providers=["CPUExecutionProvider"])
    return "features" in {o.name for o in session.get_outputs()}


def render_page(max_mb: int, max_mp: int, static_site: bool = False) -> str:
    page = (static_dir() / "index.html").read_text()
    page = page.replace("{{MAX_MB}}", str(max_mb)).replace("{{MAX_MP}}", str(max_mp))
    return page.replace('<html lang="en">', '<html lang="en" data-static-site>', 1) if static_site else page


def export_site(out_dir: str | Path, weights: str | Path | None = None) -> Path:
    """Write a static web site that colorizes in the browser with the graphs of `weights` (a folder from
    `autocolor export --onnx`; None: the bundled model): index.html, static/ (scripts and runtime), model/
    (graphs and manifest), _headers (cross-origin isolation, for hosts that read that file), README.txt."""
    out = Path(out_dir)
    onnx_dir = find_browser_model(weights)
    if onnx_dir is None:
        raise FileNotFoundError(
            f"{weights or 'the bundled model'}: no ONNX graphs for the browser; "
            "write them first with `autocolor export --onnx DIR` and pass --weights DIR"
        )
    files, manifest = browser_model(onnx_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: is a file, not a folder; choose an empty or new folder for the site")
    if out.exists() and any(out.iterdir()) and not (out / "model" / "manifest.json").is_file():
        raise ValueError(f"{out}: exists and is not an autocolor site; choose an empty or new folder")
    try:
        _write_site(out, files, manifest)
    except OSError as e:
        raise ValueError(f"{out}: cannot write the site there ({e.strerror or e})") from None
    return out


def _write_site(out: Path, files: dict, manifest: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        static_dir(), out / "static", dirs_exist_ok=True, ignore=shutil.ignore_patterns("index.html")
    )
    (out / "model").mkdir(exist_ok=True)
    for path in files.values():
        shutil.copyfile(path, out / "model" / path.name)
    (out / "model" / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (out / "index.html").write_text(render_page(SITE_UPLOAD_MB, manifest["max_pixels"] // 1_000_000, True))
    headers = "".join(f"  {k}: {v}\n" for k, v in ISOLATION_HEADERS.items())
    (out / "_headers").write_text(f"/*\n{headers}")
    (out / "README.txt").write_text(SITE_README)


SITE_README = """autocolor: colorize black-and-white photos in your browser. Photos never leave your computer.

Browsers do not run this page from a file:// address: serve this folder with any static web server, e.g.
    python -m http.server --directory THIS_FOLDER      then open http://127.0.0.1:8000/
or upload the folder to any static web host. Hosts that send these headers let it use several CPU threads
(the _headers file sets them on Netlify and Cloudflare Pages); without them it runs on one:
""" + "".join(f"    {k}: {v}\n" for k, v in ISOLATION_HEADERS.items())
