"""Backends run the numeric graphs; the Colorizer (pipeline.py) does everything else in numpy and Pillow.

A backend runs three graphs on numpy arrays:

    network(x, temperature, features) x (B, C, H, W) float32, C = the model's input channels (channel 0: L in
                                      [-1, 1]) -> ab (B, 2, H, W) float32 in [-1, 1]; temperature: the
                                      annealed-mean temperature of a colour-class model (None for others);
                                      with `features` (where `has_features`), (ab, the encoder's features
                                      for matching a reference, (B, C', H / 8, W / 8))
    guide(ab, fy, gain, radius, eps, row) -> coef (4, h, W) float32           (see composer.Guide)
    compose(fy, coef, top, height)    -> (r, W, 4) uint16 linear RGB + G again  (see composer.Compose)

The network is the trained generator; the other two are the one colour path, written in PyTorch in
composer.py (the photo's lightness before them is numpy: colorspace.srgb_to_fy). `OnnxBackend` runs their
ONNX exports with onnxruntime (no PyTorch needed); `TorchBackend` (torch_backend.py) runs the PyTorch modules
themselves. This module never imports torch.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

from .config import BACKENDS, GeneratorConfig
from .model_folder import COMPOSER_GRAPHS, GENERATOR_ONNX, WEIGHTS_NAME, bundled_weights, read_config, resolve


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose_backend(
    directory: Path, backend: str = "auto", device: str = "cpu", precision: str = "fp32"
) -> str:
    """'onnx' or 'torch' for a model folder. auto: onnxruntime when the folder has generator.onnx and neither
    CUDA nor bf16 was asked for, else PyTorch when it is installed and the folder has model.safetensors."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend '{backend}'; choose one of {', '.join(BACKENDS)}")
    has_onnx, has_torch_weights = (directory / GENERATOR_ONNX).is_file(), (directory / WEIGHTS_NAME).is_file()
    if backend == "auto":
        wants_torch = device != "cpu" or precision != "fp32"
        if has_onnx and _has("onnxruntime") and not wants_torch:
            return "onnx"
        if has_torch_weights and _has("torch"):
            return "torch"
        backend = "onnx" if has_onnx else "torch"  # fall through to the clear errors below
    if backend == "onnx":
        if not has_onnx:
            raise FileNotFoundError(
                f"{directory}: no {GENERATOR_ONNX}; make one with `autocolor export --weights {directory} "
                "--onnx DIR` (needs the [train] extra), or use --backend torch"
            )
        if not _has("onnxruntime"):
            raise ValueError("the onnx backend needs onnxruntime: pip install onnxruntime")
        if device != "cpu" or precision != "fp32":
            raise ValueError("the onnx backend runs on the CPU in fp32; use --backend torch for cuda or bf16")
        return "onnx"
    if not has_torch_weights:
        raise FileNotFoundError(f"{directory}: no {WEIGHTS_NAME} for the torch backend; use --backend onnx")
    if not _has("torch"):
        raise ValueError(
            f"{directory} holds PyTorch weights only, and PyTorch is not installed: "
            "pip install 'autocolor[train]', or export ONNX graphs with `autocolor export --onnx`"
        )
    return "torch"


def load_backend(
    directory: str | os.PathLike, backend: str = "auto", device: str = "cpu", precision: str = "fp32"
):
    """The backend for a model folder or Hub id (see `choose_backend`); its `.config` is the folder's
    GeneratorConfig."""
    directory = resolve(directory)
    config = read_config(directory)
    if choose_backend(directory, backend, device, precision) == "onnx":
        return OnnxBackend(directory, config)
    from .torch_backend import TorchBackend

    return TorchBackend(directory, device, precision)


def _import_onnxruntime():
    """onnxruntime, imported with stderr silenced: its import can print a warning line (e.g. that it could not
    save a telemetry ID in a read-only home), which would break our one-line error messages."""
    if "onnxruntime" not in sys.modules:
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            import onnxruntime  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
    import onnxruntime as ort

    ort.set_default_logger_severity(3)
    return ort


def _scalar(value, dtype) -> np.ndarray:
    return np.asarray(value, dtype=dtype)


class OnnxBackend:
    """The generator and the colour path as ONNX graphs, run by onnxruntime on the CPU."""

    name = "onnx"

    def __init__(self, directory: Path, config: GeneratorConfig, threads: int = 0):
        ort = _import_onnxruntime()
        self.config = config
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep
        opts.log_severity_level = 3

        def session(name: str, options):
            # the colour-path graphs are this version's code, not the model's: always the installed ones (a
            # folder exported by another version may hold older ones, whose outputs meant something else)
            path = (directory if name == "generator" else bundled_weights()) / f"{name}.onnx"
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

        self._net = session("generator", opts)
        # the colour path runs strip by strip on every core at once (pipeline.py): one thread per strip
        strip_opts = ort.SessionOptions()
        strip_opts.intra_op_num_threads, strip_opts.inter_op_num_threads = 1, 1
        strip_opts.log_severity_level = 3
        self._graphs = {
            name: session(name, opts if name == "guide" else strip_opts) for name in COMPOSER_GRAPHS
        }
        self.has_features = "features" in {o.name for o in self._net.get_outputs()}

    def network(self, x: np.ndarray, temperature: float | None = None, features: bool = False):
        feeds = {"input": np.ascontiguousarray(x, dtype=np.float32)}
        if temperature is not None:
            feeds["temperature"] = _scalar(temperature, np.float32)
        if features:
            return tuple(self._net.run(["ab", "features"], feeds))
        return self._net.run(["ab"], feeds)[0]

    def guide(self, ab, fy, gain: float, radius: int, eps: float, row: np.ndarray) -> np.ndarray:
        feeds = {
            "ab": np.ascontiguousarray(ab, dtype=np.float32),
            "fy": np.ascontiguousarray(fy, dtype=np.float32),
            "gain": _scalar(gain, np.float32),
            "radius": _scalar(radius, np.int64),
            "eps": _scalar(eps, np.float32),
            "row": row,
        }
        return self._graphs["guide"].run(None, feeds)[0]

    def compose(self, fy: np.ndarray, coef: np.ndarray, top: int, height: int) -> np.ndarray:
        feeds = {"fy": fy, "coef": coef, "top": _scalar(top, np.int64), "height": _scalar(height, np.int64)}
        return self._graphs["compose"].run(None, feeds)[0]
