"""TensorBoard logging for training runs: scalars (losses, learning rate, validation metrics) and sample grids.

Optional: used only when the `tensorboard` package is importable (`pip install 'autocolor[train]'`). Event files
go to RUN/tensorboard/; watch a run with `tensorboard --logdir RUN/tensorboard` (or a folder of runs).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


class TensorBoardSink:
    """A training-log sink (`write(record)`, `close()`) that writes TensorBoard events.

    A record is a dict with "step" and "kind". In "train" and "val" records each number becomes the scalar
    `KIND/KEY` at that step (train/loss_rec, train/lr, val/psnr, ...); a "sample" record's "image" ((H, W, 3)
    uint8: gray | output | truth rows) becomes the image `val/samples`. Other kinds are ignored.
    """

    def __init__(self, log_dir: str | os.PathLike, purge_step: int | None = None):
        """`purge_step`: on resume, the interrupted run's events at or past this step are hidden."""
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir, self.purge_step = Path(log_dir), purge_step
        self.writer = SummaryWriter(str(self.log_dir), purge_step=purge_step, flush_secs=30)

    def write(self, record: dict[str, Any]) -> None:
        step, kind = int(record["step"]), record.get("kind")
        if kind == "sample":
            self.image("val/samples", record["image"], step)
            return
        if kind not in ("train", "val"):
            return
        for key, value in record.items():
            if key in ("step", "kind") or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            self.writer.add_scalar(f"{kind}/{key}", value, step)

    def image(self, tag: str, rgb: np.ndarray, step: int) -> None:
        """rgb: (H, W, 3) uint8."""
        self.writer.add_image(tag, np.ascontiguousarray(rgb), step, dataformats="HWC")

    def close(self) -> None:
        self.writer.close()


def tensorboard_sink(run: str | os.PathLike, purge_step: int | None = None) -> TensorBoardSink | None:
    """A sink writing to RUN/tensorboard, or None when TensorBoard is not installed."""
    if not tensorboard_available():
        return None
    return TensorBoardSink(Path(run) / "tensorboard", purge_step=purge_step)
