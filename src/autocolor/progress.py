"""The terminal's view of a training run (tqdm on stderr): not a sink of records, the loop updates it itself."""

from __future__ import annotations

import math
import sys
import time

from tqdm import tqdm


class ProgressBar:
    """The terminal's view of a run: step / total, images per second, losses and ETA (tqdm, on stderr)."""

    def __init__(self, total: int, initial: int, images_per_step: int, enabled: bool = True):
        self.images_per_step = images_per_step
        self.bar = tqdm(
            total=total,
            initial=initial,
            disable=not enabled,
            unit="step",
            file=sys.stderr,
            dynamic_ncols=True,
        )
        self.t0, self.steps = time.perf_counter(), 0

    @property
    def images_per_s(self) -> float:
        return self.steps * self.images_per_step / max(time.perf_counter() - self.t0, 1e-9)

    def update(self, logs: dict[str, float]) -> None:
        """After each step, with its losses."""
        self.steps += 1
        postfix = {
            "img_s": f"{self.images_per_s:.1f}",
            "g": f"{logs['loss_g']:.3f}",
            "l1": f"{logs['loss_rec']:.4f}",
            "d": f"{logs.get('loss_d', math.nan):.3f}",
        }
        self.bar.set_postfix(ordered_dict=postfix, refresh=False)  # in this order (kwargs are sorted)
        self.bar.update()

    def close(self) -> None:
        self.bar.close()
