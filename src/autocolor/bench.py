"""Speed measurements that print numbers (the `autocolor bench ...` commands)."""

from __future__ import annotations

import math
import resource
import time

import torch

from .config import Config


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_train(
    size: int = 256,
    batch_size: int = 1,
    ngf: int = 64,
    precision: str = "fp32",
    steps: int = 10,
    warmup: int = 3,
    channels_last: bool = True,
    config: str | None = None,
) -> dict:
    """images/s over `steps` full G+D training steps (after `warmup`) on random crops of `size`.

    The architecture is pix2pix's for that size (num_downs = log2(size), 70x70 PatchGAN) unless a config
    is given; data loading is excluded (random uint8 batches), so this measures the networks and the update.
    """
    from .pix2pix import Pix2PixStep
    from .runtime import resolve_device

    cfg = Config.load(config)
    if config is None:
        cfg.generator.num_downs = int(math.log2(size))
    cfg.generator.ngf = ngf
    tc = cfg.train
    tc.size, tc.batch_size, tc.precision, tc.channels_last = size, batch_size, precision, channels_last
    tc.pretrain_steps, tc.steps = 0, warmup + steps
    model = Pix2PixStep(cfg, resolve_device(tc.device))
    g = torch.Generator().manual_seed(0)
    batches = [
        torch.randint(0, 256, (batch_size, size, size, 3), dtype=torch.uint8, generator=g) for _ in range(2)
    ]
    for i in range(warmup):
        model.train_step(batches[i % 2])
    t0 = time.perf_counter()
    for i in range(steps):
        model.train_step(batches[i % 2])
    dt = time.perf_counter() - t0
    return {
        "size": size,
        "batch_size": batch_size,
        "ngf": ngf,
        "precision": precision,
        "channels_last": channels_last,
        "steps": steps,
        "images_per_s": round(steps * batch_size / dt, 3),
        "step_ms": round(1000 * dt / steps, 1),
        "threads": torch.get_num_threads(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
