"""The training process: device, torchrun's process group, seeding, and stop signals (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal

import numpy as np
import torch
import torch.distributed as dist

log = logging.getLogger("autocolor.runtime")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def resolve_device(name: str, index: int = 0) -> torch.device:
    """'cpu' or 'cuda' -> a torch.device; a clear error when CUDA is asked for but absent."""
    if name == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for but CUDA is not available")
        torch.cuda.set_device(index)
        return torch.device("cuda", index)
    if name == "cpu":
        return torch.device("cpu")
    raise ValueError(f"unknown device '{name}'; choose cpu or cuda")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (data augmentation has its own seeds)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Distributed:
    """torchrun's environment -> process group (gloo on CPU, nccl on CUDA); a single process otherwise."""

    def __init__(self, device: str):
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.enabled = self.world_size > 1
        self.device = resolve_device(device, self.local_rank)
        if self.enabled and not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def any(self, flag: bool) -> bool:
        """True on every rank if `flag` is true on any rank."""
        if not self.enabled:
            return flag
        t = torch.tensor([float(flag)], device=self.device if self.device.type == "cuda" else "cpu")
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


class StopRequest:
    """While entered, Ctrl-C and SIGTERM set `requested` (the loop checkpoints and stops after the step);
    a second one raises KeyboardInterrupt at once. The previous handlers come back on exit."""

    def __init__(self, announce: bool = True):
        self.requested = False
        self.announce = announce
        self._previous: dict[int, object] = {}

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.announce:
            log.warning("signal %d: saving a checkpoint and stopping after this step", signum)

    def __enter__(self) -> StopRequest:
        self._previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def stop_signals_blocked():
    """Hold stop signals while data workers are forked: they inherit the blocked mask and so leave Ctrl-C and
    SIGTERM to the main process, which checkpoints and shuts them down."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
