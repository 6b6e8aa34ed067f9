"""autocolor: colorize black-and-white photos with a pix2pix conditional GAN, and train your own colorizer.

The public API is imported lazily so that `autocolor --help` and the dataset tools start fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "Colorizer": ("autocolor.pipeline", "Colorizer"),
    "Config": ("autocolor.config", "Config"),
    "GeneratorConfig": ("autocolor.config", "GeneratorConfig"),
    "DiscriminatorConfig": ("autocolor.config", "DiscriminatorConfig"),
    "TrainConfig": ("autocolor.config", "TrainConfig"),
    "ImageError": ("autocolor.io", "ImageError"),
    "Hint": ("autocolor.hints", "Hint"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'autocolor' has no attribute {name!r}")
