"""Running one job function over a stream of files: bounded in flight, resumable, recorded, with progress.

Every batch front end (colorize, the dataset tools) behaves the same:
- a bad file prints 'error: PATH: reason' on stderr and the rest goes on; the report says what was written,
  what failed and what was already done, and the exit status says whether anything failed;
- jobs whose output already exists under its final name are skipped (outputs appear atomically, so one that
  exists is complete), unless `overwrite`; a killed run re-run with the same command finishes the rest;
- each result is appended to a JSON-lines manifest as it happens (flushed line by line);
- jobs come from an iterator and at most 2 x workers are in flight, so memory does not grow with the job;
- the progress bar shows the rate, and the ETA once a second walk over the inputs has counted them;
- Ctrl-C sets `stop` (long jobs such as videos check it and give up within a frame), the files in progress
  are recorded and the interrupt goes on; a second Ctrl-C leaves at once;
- a full disk (or a read-only one) stops the batch after one clear line; the manifest is locked while a run
  writes it, so two runs on one output folder never do the same work twice (the second is refused).

A job function takes one `scan.Job` and returns a list of notes (warnings worth printing, e.g. which frame
of an animation was used); it raises `ImageError` (or OSError, ValueError, RuntimeError) for a failure.
"""

from __future__ import annotations

import errno
import json
import logging
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

from .atomic import try_lock
from .io import ImageError
from .scan import Job, Problem

log = logging.getLogger("autocolor.batch")

JobFn = Callable[[Job], "list[str] | None"]
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)  # no later file would fare better: stop the batch


class Interrupted(RuntimeError):
    """A job gave up because the batch was asked to stop (Ctrl-C)."""

    def __init__(self) -> None:
        super().__init__("interrupted (Ctrl-C); run the same command again to finish it")


class BatchStopped(ValueError):
    """The batch cannot go on (e.g. the disk is full): one line for the user, already recorded."""


@dataclass
class BatchReport:
    """What a batch did: files written, (path, reason) for each failure, outputs found already done."""

    written: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) of each failure
    existing: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def fail(self, path: str, reason: str) -> None:
        self.failed.append((str(path), reason))
        log.error("%s: %s", path, reason)

    @staticmethod
    def note(path: str, note: str) -> None:
        log.warning("%s: %s", path, note)

    def summary(self, verb: str = "written") -> str:
        done = f", {self.existing} already done (kept; --overwrite redoes them)" if self.existing else ""
        return f"{self.written} {verb}, {len(self.failed)} failed{done}"


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
        if not try_lock(self._file.fileno()):  # held until close()
            self._file.close()
            raise ValueError(
                f"{self.path.parent}: another autocolor run is writing to this output folder (its manifest is "
                "locked); wait for it to finish, or give this run another --output or --shard"
            )
        if self._file.tell() > 0:
            self._file.seek(self._file.tell() - 1)
            if self._file.read(1) != "\n":
                self._write("\n")

    def write(self, src: str, dst: str, status: str, reason: str = "", seconds: float = 0.0) -> None:
        record = {
            "input": src,
            "output": dst,
            "status": status,
            "reason": reason,
            "seconds": round(seconds, 3),
        }
        self._write(json.dumps(record, ensure_ascii=False) + "\n")

    def _write(self, text: str) -> None:
        """Append whole lines or nothing: on a failed write (a full disk) the file is cut back to where it was,
        and a BatchStopped says why."""
        end = self._file.tell()
        try:
            self._file.write(text)
            self._file.flush()
        except OSError as e:
            try:
                self._file.truncate(end)
            except OSError:
                pass
            raise BatchStopped(
                f"{self.path}: cannot write the manifest ({e.strerror or e}); stopping"
            ) from None

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:  # nothing left unwritten: every line was flushed (or cut back) as it was written
            pass


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """The records of a manifest (a line cut short by a kill is left out)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def _call(fn: JobFn, job: Job) -> tuple[bool, str, list[str], float, bool]:
    """fn(job) -> (ok, reason, notes, seconds, whether the batch must stop)."""
    start = time.perf_counter()
    try:
        notes = fn(job) or []
        return True, "", notes, time.perf_counter() - start, False
    except ImageError as e:
        return False, e.reason, [], time.perf_counter() - start, False
    except OSError as e:
        where = e.filename or job.dst
        reason = f"{e.strerror} ({where})" if e.strerror else str(e)
        return False, reason, [], time.perf_counter() - start, e.errno in DISK_FULL
    except Exception as e:  # one bad file never stops the batch (onnxruntime's errors included)
        reason = str(e) if isinstance(e, (ValueError, RuntimeError)) else f"{type(e).__name__}: {e}"
        return False, reason or type(e).__name__, [], time.perf_counter() - start, False


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
    stop: threading.Event | None = None,
) -> BatchReport:
    """Call `fn(job)` for each Job in `items` (reporting each Problem), skipping jobs whose output exists
    unless `overwrite`. `workers` threads, or with `processes` that many spawned processes (then `fn` must be
    a module-level function). `counter()` counts the jobs (for the ETA). On Ctrl-C, `stop` is set for the
    jobs to see (raising `Interrupted`), jobs not started are dropped, those in progress are waited for and
    recorded, and KeyboardInterrupt goes on. A full disk raises BatchStopped. Returns the report."""
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

    fatal: list[str] = []

    def record(job: Job, result: tuple[bool, str, list[str], float, bool]) -> None:
        ok, reason, notes, seconds, stops = result
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
        if stops:
            fatal.append(f"{reason}: stopping the batch")
        tick()

    def tick() -> None:
        if bar.total is None and total.value is not None:
            bar.total = total.value
        bar.update()

    def settle(done: Iterable[Future]) -> None:
        for future in done:
            job = in_flight.pop(future)
            if not future.cancelled():
                record(job, future.result())

    def finish_in_flight() -> None:
        for future in in_flight:
            future.cancel()  # not started yet: dropped, nothing written
        while in_flight:
            settle(wait(in_flight, return_when=FIRST_COMPLETED).done)

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
            while len(in_flight) >= 2 * workers and not fatal:
                settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
            if fatal:
                break
            in_flight[pool.submit(_call, fn, item)] = item
        while in_flight and not fatal:
            settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
        if fatal:
            finish_in_flight()
            raise BatchStopped(fatal[0])
    except KeyboardInterrupt:
        if stop is not None:
            stop.set()
        bar.clear()
        log.warning("interrupted: finishing the files in progress (Ctrl-C again leaves at once)")
        finish_in_flight()
        raise
    finally:
        bar.close()
        pool.shutdown(wait=not in_flight, cancel_futures=True)
    return report
