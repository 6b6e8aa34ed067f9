"""The PyTorch backend: the trained generator and composer.py's modules, run by PyTorch (the [train] extra).

Same interface as backends.OnnxBackend (numpy in, numpy out); also the reference the ONNX export is checked
against, and the only backend for CUDA and bf16.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .checkpoint import load_pretrained
from .composer import Compose, Guide
from .models import UNet
from .precision import autocast


class TorchBackend:
    name = "torch"

    def __init__(
        self,
        directory: Path | None,
        device: str | torch.device = "cpu",
        precision: str = "fp32",
        model: UNet | None = None,
    ):
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for but CUDA is not available; use --device cpu")
        autocast(self.device, precision)  # validates the name
        self.precision = precision
        self.model = (model if model is not None else load_pretrained(directory)).to(self.device).eval()
        self.config = self.model.config
        self.has_features = hasattr(self.model, "match_features")
        self._guide, self._compose = Guide(), Compose()

    @torch.no_grad()
    def network(self, x: np.ndarray, temperature: float | None = None, features: bool = False):
        x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
        args = (x,) if temperature is None else (x, torch.tensor(float(temperature), device=self.device))
        with autocast(self.device, self.precision):
            out = self.model(*args, with_features=True) if features else self.model(*args)
        if features:
            return tuple(o.float().cpu().numpy() for o in out)
        return out.float().cpu().numpy()

    @torch.no_grad()
    def guide(self, ab, fy, gain: float, radius: int, eps: float, row: np.ndarray) -> np.ndarray:
        args = (torch.from_numpy(np.ascontiguousarray(ab, dtype=np.float32)), torch.from_numpy(fy))
        scalars = (torch.tensor(float(gain)), torch.tensor(int(radius)), torch.tensor(float(eps)))
        return self._guide(*args, *scalars, torch.from_numpy(row)).numpy()

    @torch.no_grad()
    def compose(self, fy: np.ndarray, coef: np.ndarray, top: int, height: int) -> np.ndarray:
        args = (
            torch.from_numpy(fy),
            torch.from_numpy(coef),
            torch.tensor(int(top)),
            torch.tensor(int(height)),
        )
        return self._compose(*args).numpy()
