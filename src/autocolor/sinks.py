"""Where training records go. The loop hands every record to each sink of its list:

    {"kind": "train", "step", "loss_g", "loss_rec", "lr", "images_per_s", [loss_d, d_real, d_fake, loss_g_adv]}
    {"kind": "val", "step", "l1", "psnr", "colorfulness", "colorfulness_truth", "colorfulness_ratio", "score"}
    {"kind": "sample", "step", "path" (relative to the run folder), "image" ((H, W, 3) uint8 array)}
    {"kind": "resume", "step", "changed": {key: [old, new]}}

A sink is any object with `write(record)` and `close()`; `default_sinks` gives those every run gets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Sink(Protocol):
    def write(self, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class JsonlSink:
    """One JSON object per line in `path` (metrics.jsonl); arrays are left out (samples are PNG files)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def write(self, record: dict[str, Any]) -> None:
        row = {k: v for k, v in record.items() if not isinstance(v, np.ndarray)}
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")

    def close(self) -> None:
        pass


def default_sinks(out: Path, step: int = 0) -> list[Sink]:
    """The sinks of every run in `out` (resumed at `step`): metrics.jsonl, and TensorBoard event files in
    out/tensorboard when TensorBoard is installed (see tensorboard_sink.py)."""
    from .tensorboard_sink import tensorboard_sink

    sinks: list[Sink] = [JsonlSink(out / "metrics.jsonl")]
    board = tensorboard_sink(out, purge_step=step + 1 if step else None)  # keeps the checkpoint step
    if board is not None:
        sinks.append(board)
    return sinks
