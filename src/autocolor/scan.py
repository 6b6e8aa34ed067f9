"""Finding a batch's work without listing it: lazy folder walks, input resolution, output placement, shards.

A folder of a million photos is never held in memory: `walk` yields files as `os.scandir` finds them, and
`plan` turns inputs (files, folders, glob patterns) into `Job`s one at a time. Problems with the inputs
themselves (a missing file, a symbolic link loop, two inputs with the same output) come out of the same
stream as `Problem`s, so the batch reports them in order and goes on.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .io import IMAGE_EXTENSIONS, is_image_path


@dataclass(frozen=True)
class Job:
    """One input file and the output it becomes. `rel` is its path relative to the input it was found under
    (its name for files given one by one): what `--shard` hashes and what mirrors the tree under the output."""

    src: Path
    dst: Path
    rel: str


@dataclass(frozen=True)
class Problem:
    """An input that cannot become a job: `name` (a path or pattern as the user gave it) and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class Shard:
    """Part `index` of `count` (0-based, as Kubernetes indexed jobs and most job arrays number them): a file
    belongs to the part given by a hash of its relative path, so the parts never overlap, together cover
    everything, and do not depend on the order files are found in or on which machine runs them."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        k, sep, n = text.partition("/")
        if not (sep and k.strip().isdigit() and n.strip().isdigit()):
            raise ValueError(f"--shard must look like K/N (e.g. 0/4), got '{text}'")
        k, n = int(k), int(n)
        if n < 1 or not 0 <= k < n:
            raise ValueError(f"--shard {text}: need N >= 1 and 0 <= K < N (parts are numbered from 0)")
        return cls(k, n)

    def owns(self, rel: str) -> bool:
        if self.count == 1:
            return True
        digest = hashlib.blake2b(rel.encode("utf-8", "surrogateescape"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard()  # the whole job, one part


def _dir_id(path: str | os.PathLike) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def walk(
    root: Path, exclude: Path | None = None, also: tuple[str, ...] = ()
) -> Iterator[tuple[Path, str] | Problem]:
    """(file, path relative to root) for every image file under `root`, lazily, skipping hidden names and the
    `exclude` folder's tree. Symbolic links to folders are followed, but a link back into its own ancestry is
    reported as a loop; broken links and unreadable folders are reported; nothing is silently lost. Files
    ending in one of `also` (e.g. video extensions) are taken too."""

    def wanted(name: str) -> bool:
        return is_image_path(name) or name.lower().endswith(also)

    skip = _dir_id(exclude) if exclude is not None else None
    stack: list[tuple[Path, str, frozenset]] = [(root, "", frozenset({_dir_id(root)}))]
    while stack:
        folder, rel, ancestors = stack.pop()
        subdirs = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    path, name = Path(entry.path), f"{rel}{entry.name}"
                    try:
                        is_dir, is_file = entry.is_dir(), entry.is_file()
                    except OSError:  # e.g. a link to itself
                        is_dir = is_file = False
                    if is_dir:
                        ident = _dir_id(path)
                        if ident in ancestors:
                            yield Problem(str(path), "symbolic link loop (links back to a folder above it)")
                        elif ident != skip:
                            subdirs.append((path, f"{name}/", ancestors | {ident}))
                    elif is_file:
                        if wanted(entry.name):
                            yield path, name
                    elif entry.is_symlink() and wanted(entry.name):
                        yield Problem(str(path), _link_problem(path))
        except OSError as e:
            yield Problem(str(folder), f"folder not read ({e.strerror or e})")
        stack.extend(reversed(subdirs))


def _link_problem(path: Path) -> str:
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symbolic link loop"
        if e.errno == errno.ENOENT:
            return f"broken symbolic link (to {os.readlink(path)})"
        return f"cannot read it ({e.strerror or e})"
    return "not a regular file"


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))  # unlike Path.resolve, never raises on a symbolic link loop


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def check_output(roots: Sequence[Path], out_dir: Path) -> None:
    """Refuse an output folder that is an input folder or contains one (outputs would land among the inputs
    and could be taken for finished results); one inside an input folder is fine: `walk` skips it."""
    out = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir}: the output must be a folder, and this is a file")
    for root in roots:
        if _inside(root.resolve(), out):
            where = "is" if root.resolve() == out else "contains"
            raise ValueError(
                f"{out_dir}: the output folder {where} the input folder {root}; inputs are never overwritten "
                f"and outputs must not mix with them: choose an output folder outside {root} "
                f"(one inside it, e.g. {root / 'colorized'}, is fine)"
            )


def plan(
    inputs: Sequence[str | os.PathLike],
    out_dir: Path,
    output_for: Callable[[Path, str], Path],
    shard: Shard = WHOLE,
    also: tuple[str, ...] = (),
) -> Iterator[Job | Problem]:
    """Jobs for every image in `inputs` (files, folders recursed, glob patterns) that `shard` owns, output
    path from `output_for(src, rel)`; Problems for inputs that are missing, given twice, or would share an
    output. Call `check_output` with the folder inputs first.

    Memory stays bounded for one folder, however large: two inputs can only share an output when they are in
    the same folder, so only one folder's outputs are remembered at a time. With several inputs, every
    output is remembered (those runs are as long as their command lines and glob patterns).
    """
    out_resolved = out_dir.resolve()
    several = len(inputs) > 1
    seen: dict[Path, str] = {}
    given: set[Path] = set()
    for item in map(str, inputs):
        path = Path(item)
        if path.is_dir():
            if path.resolve() in given:
                yield Problem(item, "given more than once; done once")
                continue
            given.add(path.resolve())
            found = walk(path, exclude=out_dir, also=also)
        elif path.is_file() or path.is_symlink():
            found = iter([(path, path.name)])
        else:
            found = _glob(item, out_resolved)
        any_found = False
        for entry in found:
            if isinstance(entry, Problem):
                yield entry
                continue
            any_found = True
            src, rel = entry
            if not shard.owns(rel):
                continue
            dst = output_for(src, rel)
            if not path.is_dir():
                real = _real(src)
                if real in given:
                    yield Problem(str(src), "given more than once; done once")
                    continue
                given.add(real)
                if _real(dst) == real:
                    yield Problem(
                        str(src), f"its output {dst} is the input itself; choose another output folder"
                    )
                    continue
            if not several and seen and next(iter(seen)).parent != dst.parent:
                seen.clear()  # one folder: outputs can only clash with their siblings'
            if dst in seen:
                yield Problem(str(src), f"its output {dst} would overwrite the one from {seen[dst]}")
                continue
            seen[dst] = str(src)
            yield Job(src, dst, rel)
        if not any_found and path.is_dir():
            yield Problem(item, f"no image files in this folder (looked for {' '.join(IMAGE_EXTENSIONS)})")
        elif not any_found:
            yield Problem(item, "no such file, folder or matching pattern")


def _glob(pattern: str, out_dir: Path) -> Iterator[tuple[Path, str]]:
    for match in glob.iglob(pattern, recursive=True):
        p = Path(match)
        if p.is_file() and not _inside(_real(p), out_dir):
            yield p, p.name


def count(jobs: Iterator[Job | Problem]) -> int:
    """How many Jobs a plan holds (walks it once more, keeping nothing): the total behind a progress bar's ETA."""
    return sum(isinstance(j, Job) for j in jobs)
