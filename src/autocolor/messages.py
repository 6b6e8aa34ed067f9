"""Messages for people. Library modules log through `logging` ("autocolor.*" loggers) and never print; the
CLI installs one handler (`setup`) that writes each message as one line on stderr, through tqdm so progress
bars stay whole, at the verbosity of its -q / -v flags: errors and warnings always ("error: ...",
"warning: ..."), notes (INFO: what a run did, e.g. "resumed from ...") unless -q, debugging detail with -v.
A program using the Python API decides for itself (by default Python shows warnings and errors).

One way to say that an optional part is missing: `MissingExtra`, naming the `pip install` that fixes it.
"""

from __future__ import annotations

import logging
import sys

from tqdm import tqdm

LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}  # -q, default, -v


class MissingExtra(ImportError):
    """An optional dependency is not installed: the message names what needed it and the fix."""

    def __init__(self, what: str, extra: str, package: str | None = None):
        fix = f"pip install 'autocolor[{extra}]'" + (f" (or pip install {package})" if package else "")
        super().__init__(f"{what} needs the [{extra}] extra: {fix}")


class _Lines(logging.Handler):
    """Each record as one line on stderr, above any progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if record.levelno >= logging.ERROR:
                text = f"error: {text}"
            elif record.levelno >= logging.WARNING:
                text = f"warning: {text}"
            tqdm.write(text, file=sys.stderr)
        except Exception:
            self.handleError(record)


def setup(verbosity: int = 0) -> None:
    """Show autocolor's messages on stderr at `verbosity`: -1 (-q) errors and warnings, 0 also notes, 1 (-v)
    also debugging detail."""
    logger = logging.getLogger("autocolor")
    for handler in [h for h in logger.handlers if isinstance(h, _Lines)]:
        logger.removeHandler(handler)
    logger.addHandler(_Lines())
    logger.setLevel(LEVELS[max(-1, min(1, verbosity))])
    logger.propagate = False
