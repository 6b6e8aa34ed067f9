"""Running one job function over a stream of files: bounded in flight, resumable, recorded, with progress.

Every batch front end (colorize, the dataset tools) behaves the same:
- a bad file prints 'error: PATH: reason' on stderr and the rest goes on; the report says what was written,
  what failed and what was already done, and the exit status says whether anything failed;
- jobs whose output already exists under its final name are skipped (outputs appear atomically, so one that
  exists is complete), unless `overwrite`; a killed run re-run with the same command finishes the rest;
- each result is appended to a JSON-lines manifest as it happens (flushed line by line);
- jobs come from an iterator and at most 2 x workers are in flight, so memory does not grow with the job;
- the progress bar shows the rate, and the ETA once a second walk over the inputs has counted them.

A job function takes one `scan.Job` and returns a list of notes (warnings worth printing, e.g. which frame
of an animation was used); it raises `ImageError` (or OSError, ValueError, RuntimeError) for a failure.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .io import ImageError
from .scan import Job, Problem

JobFn = Callable[[Job], "list[str] | None"]


@dataclass
class BatchReport:
    """What a batch did: files written, (path, reason) for each failure, outputs found already done."""

    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # failures
    existing: int = 0

    @property
    def ok(self) -> bool:
        return not self.skipped

    def fail(self, path: str, reason: str) -> None:
        self.skipped.append((str(path), reason))
        tqdm.write(f"error: {path}: {reason}", file=sys.stderr)

    @staticmethod
    def note(path: str, note: str) -> None:
        tqdm.write(f"warning: {path}: {note}", file=sys.stderr)

    def summary(self, verb: str = "written") -> str:
        done = f", {self.existing} already done (kept; --overwrite redoes them)" if self.existing else ""
        return f"{self.written} {verb}, {len(self.skipped)} failed{done}"


class Manifest:
    """A JSON-lines record of a batch, one line per input as it finishes: input, output, status ("written",
    "failed" or "exists"), reason (the failure, or the notes of a written file), seconds. Appended to, so
    re-runs add to it; a line cut short by a kill is closed off before the next one is written."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a+", encoding="utf-8")
        except OSError as e:
            raise ValueError(f"{self.path}: cannot write the manifest there ({e.strerror or e})") from None
        if self._file.tell() > 0:
            self._file.seek(self._file.tell() - 1)
            if self._file.read(1) != "\n":
                self._file.write("\n")

    def write(self, src: str, dst: str, status: str, reason: str = "", seconds: float = 0.0) -> None:
        record = {
            "input": src,
            "output": dst,
            "status": status,
            "reason": reason,
            "seconds": round(seconds, 3),
        }
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """The records of a manifest (a line cut short by a kill is left out)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def _call(fn: JobFn, job: Job) -> tuple[bool, str, list[str], float]:
    start = time.perf_counter()
    try:
        notes = fn(job) or []
        return True, "", notes, time.perf_counter() - start
    except ImageError as e:
        return False, e.reason, [], time.perf_counter() - start
    except (OSError, ValueError, RuntimeError, MemoryError) as e:  # one bad file never stops the batch
        reason = f"{e.strerror}: {e.filename}" if isinstance(e, OSError) and e.strerror else str(e)
        return False, reason or type(e).__name__, [], time.perf_counter() - start


def _init_worker() -> None:
    try:
        import torch
    except ImportError:  # a colorizing-only install has no PyTorch
        return
    torch.set_num_threads(1)


class _Total:
    """Counts the jobs in a background thread, so the bar can show an ETA without holding the list."""

    def __init__(self, counter: Callable[[], int] | None):
        self.value: int | None = None
        if counter is not None:
            threading.Thread(target=self._run, args=(counter,), daemon=True).start()

    def _run(self, counter: Callable[[], int]) -> None:
        try:
            self.value = counter()
        except Exception:  # the ETA is a nicety; the batch itself reports every problem
            pass


def run_batch(
    fn: JobFn,
    items: Iterable[Job | Problem],
    report: BatchReport | None = None,
    *,
    workers: int = 1,
    processes: bool = False,
    overwrite: bool = False,
    manifest: Manifest | None = None,
    counter: Callable[[], int] | None = None,
    desc: str = "",
    progress: bool = True,
) -> BatchReport:
    """Call `fn(job)` for each Job in `items` (reporting each Problem), skipping jobs whose output exists
    unless `overwrite`. `workers` threads, or with `processes` that many spawned processes (then `fn` must be
    a module-level function). `counter()` counts the jobs (for the ETA). Returns the report."""
    report = report or BatchReport()
    workers = max(1, workers)
    pool: Executor
    if processes and workers > 1:
        pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_worker)
    else:
        pool = ThreadPoolExecutor(workers)
    total = _Total(counter if progress else None)
    bar = tqdm(desc=desc or None, unit="file", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    in_flight: dict[Future, Job] = {}

    def record(job: Job, result: tuple[bool, str, list[str], float]) -> None:
        ok, reason, notes, seconds = result
        for note in notes:
            report.note(str(job.src), note)
        if ok:
            report.written += 1
        else:
            report.fail(str(job.src), reason)
        if manifest is not None:
            manifest.write(
                str(job.src), str(job.dst), "written" if ok else "failed", reason or "; ".join(notes), seconds
            )
        tick()

    def tick() -> None:
        if bar.total is None and total.value is not None:
            bar.total = total.value
        bar.update()

    def settle(done: Iterable[Future]) -> None:
        for future in done:
            record(in_flight.pop(future), future.result())

    try:
        for item in items:
            if isinstance(item, Problem):
                report.fail(item.name, item.reason)
                if manifest is not None:
                    manifest.write(item.name, "", "failed", item.reason)
                continue
            if not overwrite and item.dst.exists():
                report.existing += 1
                if manifest is not None:
                    manifest.write(str(item.src), str(item.dst), "exists")
                tick()
                continue
            while len(in_flight) >= 2 * workers:
                settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
            in_flight[pool.submit(_call, fn, item)] = item
        while in_flight:
            settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
    finally:
        bar.close()
        pool.shutdown(wait=not in_flight, cancel_futures=True)
    return report
