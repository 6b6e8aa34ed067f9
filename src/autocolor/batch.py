"""Running one function over many files: worker processes, a progress bar, one line per failure.

Used by the dataset tools and the colorize command, so that every batch front end behaves the same: a bad
file prints 'PATH: reason' on stderr and the rest goes on; the report says what was written and skipped.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .io import ImageError


@dataclass
class BatchReport:
    """What a batch did: files written, and (path, reason) for each file skipped."""

    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.skipped

    def fail(self, path: str, reason: str) -> None:
        self.skipped.append((str(path), reason))
        tqdm.write(f"error: {path}: {reason}", file=sys.stderr)

    def summary(self, verb: str = "written") -> str:
        return f"{self.written} {verb}, {len(self.skipped)} skipped"


def distinct_outputs(pairs: list[tuple[Path, Path]], report: BatchReport) -> list[tuple[Path, Path]]:
    """Keep the (input, output) pairs whose output is neither an input file nor an earlier pair's output;
    report each one dropped, so no input and no result is ever written over."""
    inputs = {src.resolve() for src, _ in pairs}
    taken: dict[Path, Path] = {}
    kept = []
    for src, dst in pairs:
        out = dst.resolve()
        if out in inputs:
            report.fail(str(src), f"its output {dst} is an input file; choose another output folder")
        elif out in taken:
            report.fail(str(src), f"its output {dst} would overwrite the one from {taken[out]}")
        else:
            taken[out] = src
            kept.append((src, dst))
    return kept


def _call(fn: Callable, job) -> tuple[bool, str]:
    try:
        fn(*job)
        return True, ""
    except ImageError as e:
        return False, e.reason
    except Exception as e:  # one bad file never stops the batch
        return False, f"{type(e).__name__}: {e}"


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def run_batch(
    fn: Callable,
    jobs: Iterable[tuple],
    names: list[str],
    workers: int | None = None,
    desc: str = "",
    report: BatchReport | None = None,
) -> BatchReport:
    """Call `fn(*job)` for each job (a tuple of picklable arguments), in `workers` processes.

    `names[i]` names job i in error lines. Returns the report (the one passed in, updated, if given).
    """
    jobs = list(jobs)
    report = report or BatchReport()
    workers = min(workers or os.cpu_count() or 1, max(len(jobs), 1))
    bar = tqdm(total=len(jobs), desc=desc, unit="img", disable=len(jobs) < 2, file=sys.stderr)
    if workers <= 1:
        results = (_call(fn, job) for job in jobs)
        pool = None
    else:
        pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker)
        results = pool.map(_call, [fn] * len(jobs), jobs, chunksize=max(1, len(jobs) // (workers * 8)))
    try:
        for name, (ok, reason) in zip(names, results, strict=True):
            if ok:
                report.written += 1
            else:
                report.fail(name, reason)
            bar.update()
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return report
