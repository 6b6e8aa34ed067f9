"""Files that appear whole or not at all: written beside their final name, then renamed into place with the
permissions a plain write would give; a stable, locked temporary name where a killed run must leave no debris
and two writers must not mix."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # no advisory locks on this platform
    fcntl = None


def try_lock(fd: int) -> bool:
    """Take an exclusive advisory lock on the open file `fd` without waiting: False if another process holds
    it (True where the platform has no such locks)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _umask() -> int:
    """The process umask, read without changing it (os.umask can only be read by setting it, which races with
    every other thread that creates files)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    probe = Path(tempfile.gettempdir()) / f".autocolor-umask-{secrets.token_hex(8)}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o777)
    try:
        return 0o777 & ~os.fstat(fd).st_mode
    finally:
        os.close(fd)
        probe.unlink()


def publish(tmp: str | os.PathLike, path: str | os.PathLike, mode: int = 0o666) -> None:
    """Move a finished temporary file (or folder, mode 0o777) into place atomically, with the permissions a
    normal write would give (not mkstemp's 0600)."""
    os.chmod(tmp, mode & ~_umask())
    os.replace(tmp, path)


def part_path(path: str | os.PathLike) -> Path:
    """The temporary name `atomic_open(path, stable=True)` writes to before renaming: .NAME.part beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.part")


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, fsync: bool = False, stable: bool = False) -> Iterator[BinaryIO]:
    """Open a temporary file beside `path` for writing; on success it replaces `path` atomically (with
    `fsync`, durably), on failure it is removed and `path` is left as it was.

    The file is created with mode 0o666 less the umask, as a plain open() would. With `stable`, the temporary
    name is always `part_path(path)` and is locked while written: a run killed mid-write leaves one such file,
    which the next write of the same `path` reuses, so re-running a killed batch leaves no debris, and two
    processes writing the same `path` at once get an error instead of a mixed file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if stable:
        tmp = part_path(path)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT, 0o666)
        if not try_lock(fd):
            os.close(fd)
            raise OSError(errno.EBUSY, "being written by another process at this moment", str(path))
        os.ftruncate(fd, 0)
    else:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
