"""A model folder: its file names, its config.json and where to find it (torch-free). Every reader and writer
of model folders goes through here (in the manner of diffusers' from_pretrained / save_pretrained):

    config.json           the generator's settings (config.GeneratorConfig: its architecture and its colorizing
                          defaults) and the autocolor version that wrote them
    model.safetensors     the PyTorch weights (training, the torch backend, `autocolor export`)
    generator.onnx        the network for onnxruntime and the browser; guide.onnx, compose.onnx:
                          the colour path, the same for every model and written for completeness: autocolor
                          always runs its own installed copies (a folder's may come from another version)
    README.md             a model card (`autocolor export` writes one), so the folder can be pushed to a model
                          hub as it is

One policy for settings this version does not know: an error naming them and the version that wrote them.
A folder may also be named by a Hugging Face Hub id ("owner/name"), resolved through `huggingface_hub` when
it is installed (its cache serves it offline).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
from importlib import resources
from pathlib import Path

from . import __version__
from .atomic import atomic_open
from .config import COLORIZING_DEFAULTS, GeneratorConfig

CONFIG_NAME, WEIGHTS_NAME, GENERATOR_ONNX, CARD_NAME = (
    "config.json",
    "model.safetensors",
    "generator.onnx",
    "README.md",
)
COMPOSER_GRAPHS = ("guide", "compose")  # each saved as NAME.onnx
VERSION_KEY = "autocolor_version"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def bundled_weights() -> Path:
    """The folder of the default generator shipped inside the package (ONNX graphs + safetensors)."""
    return Path(str(resources.files("autocolor") / "weights"))


def resolve(name: str | os.PathLike) -> Path:
    """A model folder's path: `name` itself when it is a folder, else a Hugging Face Hub id downloaded (or found
    in the hub's cache) by `huggingface_hub` when that is installed."""
    path = Path(name)
    if path.is_dir():
        return path
    text = str(name)
    if _HUB_ID.fullmatch(text) and not path.exists():
        if importlib.util.find_spec("huggingface_hub") is None:
            raise FileNotFoundError(
                f"{text}: no such folder; to load it from the Hugging Face Hub: pip install huggingface_hub"
            )
        from huggingface_hub import snapshot_download  # an optional extra, imported only when asked for
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

        try:
            return Path(snapshot_download(text))
        except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as e:
            raise FileNotFoundError(
                f"{text}: not a folder, and not found on the Hugging Face Hub ({e})"
            ) from None
    raise FileNotFoundError(
        f"{text}: no such model folder (expected a folder written by `autocolor export` or save_pretrained, "
        "a training run's generator/ folder, or a Hugging Face Hub id such as owner/name)"
    )


def read_config(directory: str | os.PathLike) -> GeneratorConfig:
    """The folder's config.json as a GeneratorConfig; settings this version does not know are a ValueError."""
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"{directory}: no {CONFIG_NAME} (expected a folder written by `autocolor export` or "
            "save_pretrained, or a training run's generator/ folder)"
        )
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable config.json ({e})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a JSON object of generator settings")
    writer = raw.pop(VERSION_KEY, "an unknown version")
    known = {f.name for f in dataclasses.fields(GeneratorConfig)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValueError(
            f"{path}: settings {', '.join(unknown)} were written by autocolor {writer} and are unknown to "
            f"autocolor {__version__}; upgrade autocolor to use this model"
        )
    return GeneratorConfig(**raw)


def config_bytes(config: GeneratorConfig) -> bytes:
    """config.json's text for `config`, with the version writing it."""
    return (json.dumps({**dataclasses.asdict(config), VERSION_KEY: __version__}, indent=2) + "\n").encode()


def write_config(directory: str | os.PathLike, config: GeneratorConfig) -> Path:
    """Write `directory`/config.json atomically."""
    path = Path(directory) / CONFIG_NAME
    with atomic_open(path) as f:
        f.write(config_bytes(config))
    return path


def with_overrides(config: GeneratorConfig, **overrides) -> GeneratorConfig:
    """A copy of `config` with colorizing defaults changed; the architecture belongs to the weights."""
    for key in overrides:
        if key not in COLORIZING_DEFAULTS:
            what = (
                "an architecture setting (it belongs to the weights)" if hasattr(config, key) else "unknown"
            )
            raise ValueError(f"generator setting '{key}' cannot be overridden: {what}")
    return dataclasses.replace(config, **overrides)


CARD = """---
library_name: autocolor
pipeline_tag: image-to-image
tags:
- image-colorization
- pix2pix
---

# {title}

A generator for [autocolor](https://pypi.org/project/autocolor/): it turns black-and-white photos into colour
ones, at their full size. Its lightness is the input's own; the network predicts the colour at a render size
of {render_size} px (long side) and the colour is upsampled along the photo's edges.

```python
from autocolor import Colorizer

colorizer = Colorizer.from_pretrained("THIS_FOLDER_OR_HUB_ID")
colorizer.colorize("old-photo.jpg").save("old-photo.colour.png")
```

or `autocolor colorize old-photo.jpg --weights THIS_FOLDER`. Architecture: {architecture}. Colorizing
defaults: {defaults}. Files: {files}.
"""


def write_card(
    directory: str | os.PathLike, config: GeneratorConfig, title: str = "autocolor colorizer"
) -> Path:
    """A model card (README.md) for the folder, so it can be pushed to a model hub as it is; one already there
    (a card someone wrote) is kept."""
    path = Path(directory) / CARD_NAME
    if path.exists():
        return path
    settings = dataclasses.asdict(config)
    arch = ", ".join(f"{k} {v}" for k, v in settings.items() if k not in COLORIZING_DEFAULTS)
    defaults = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in settings.items() if k in COLORIZING_DEFAULTS)  # fmt: skip
    files = ", ".join(sorted(p.name for p in Path(directory).iterdir() if not p.name.startswith(".")))
    text = CARD.format(
        title=title, render_size=config.render_size, architecture=arch, defaults=defaults, files=files
    )
    with atomic_open(path) as f:
        f.write(text.encode())
    return path
