"""`autocolor export --onnx DIR`: the generator and the colour path as ONNX graphs, for onnxruntime.

    DIR/config.json       the generator's config (render size, chroma gain, guided upsampling, input channels)
    DIR/README.md         a model card (model_folder.write_card), so DIR can be pushed to a model hub as it is
    DIR/generator.onnx    input (B, C, H, W) float32 -> ab (B, 2, H, W) (and `features` for a model with an
                          encoder); B, H, W dynamic (H, W multiples of 2**num_downs); weights stored as
                          float16 when they are exactly float16 values
    DIR/guide.onnx, compose.onnx   composer.py's modules (the same for every model)

Exported with torch.onnx (dynamo) at opset 18 and checked against PyTorch on a random input.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch.export import Dim

from .atomic import publish
from .checkpoint import atomic_write_bytes, load_pretrained
from .composer import Compose, Guide
from .model_folder import COMPOSER_GRAPHS, GENERATOR_ONNX, with_overrides, write_card, write_config

OPSET = 18


def _export(module: torch.nn.Module, args: tuple, dynamic_shapes, path: Path, names: tuple) -> None:
    inputs, outputs = names
    program = torch.onnx.export(
        module.eval(),
        args,
        dynamic_shapes=dynamic_shapes,
        input_names=list(inputs),
        output_names=list(outputs),
        opset_version=OPSET,
        dynamo=True,
        external_data=False,
        verbose=False,
    )
    program.optimize()
    model = program.model_proto
    _store_half(model)
    onnx.checker.check_model(model)
    atomic_write_bytes(path, model.SerializeToString())


def _store_half(model: onnx.ModelProto, min_size: int = 1024) -> None:
    """Store float32 weights that are exactly float16 values as float16, cast back at load (half the file,
    same numbers): models exported from float16 safetensors lose nothing."""
    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        arr = numpy_helper.to_array(init)
        if arr.size < min_size or not np.array_equal(arr.astype(np.float16).astype(np.float32), arr):
            continue
        half = numpy_helper.from_array(arr.astype(np.float16), init.name + "_fp16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(onnx.helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
    for i, node in enumerate(casts):
        graph.node.insert(i, node)


class _WithFeatures(torch.nn.Module):
    """A generator with an encoder, answering its matching features too (see ColorNet.match_features)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, temperature: torch.Tensor | None = None):
        return self.model(x, temperature, with_features=True)


def export_generator(model: torch.nn.Module, path: Path) -> None:
    """input (B, C, H, W) -> ab (and, for a model with an encoder, `features` for matching a reference photo,
    (B, C', H / 8, W / 8)); a colour-class model takes `temperature` (a float32 scalar) too."""
    m = model.multiple
    x = torch.zeros(2, model.input_channels, 2 * m, 3 * m)  # L, then hint ab + mask for a hint model
    batch, h, w = Dim("batch", min=1, max=1024), Dim("h", min=1, max=1024), Dim("w", min=1, max=1024)
    dims = ({0: batch, 2: m * h, 3: m * w},)
    if model.config.classes:
        args, dims, inputs = (
            (x, torch.tensor(model.config.temperature)),
            (*dims, None),
            ("input", "temperature"),
        )
    else:
        args, inputs = (x,), ("input",)
    if hasattr(model, "match_features"):
        _export(_WithFeatures(model.float()), args, dims, path, (inputs, ("ab", "features")))
    else:
        _export(model.float(), args, dims, path, (inputs, ("ab",)))


def export_composer(directory: Path) -> None:
    W = Dim("W", min=1)
    h, w, r = Dim("h", min=1), Dim("w", min=1), Dim("r", min=1)
    s = torch.tensor
    specs = {
        "guide": (
            Guide(),
            (torch.zeros(2, 6, 8), torch.rand(6, 8), s(1.0), s(2), s(1e-3), torch.zeros(20)),
            ({1: h, 2: w}, {0: h, 1: w}, None, None, None, {0: W}),
            (("ab", "fy", "gain", "radius", "eps", "row"), ("coef",)),
        ),
        "compose": (
            Compose(),
            (torch.rand(5, 20), torch.zeros(4, 6, 20), s(0), s(30)),
            ({0: r, 1: W}, {1: h, 2: W}, None, None),
            (("fy", "coef", "top", "height"), ("rgb",)),
        ),
    }
    for name in COMPOSER_GRAPHS:
        module, args, dims, names = specs[name]
        _export(module, args, dims, directory / f"{name}.onnx", names)


def export_onnx(weights: str | Path, out: str | Path, **config_overrides) -> Path:
    """Write `out`/ with config.json, generator.onnx and the colour-path graphs; returns `out`."""
    model = load_pretrained(weights)
    model.config = with_overrides(model.config, **config_overrides)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        export_generator(model, tmp / GENERATOR_ONNX)
        export_composer(tmp)
        write_config(tmp, model.config)
        write_card(tmp, model.config)
        if out.exists():
            for f in tmp.iterdir():
                publish(f, out / f.name)
            shutil.rmtree(tmp)
        else:
            publish(tmp, out, 0o777)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
