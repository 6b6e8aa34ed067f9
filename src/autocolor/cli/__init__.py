"""Command-line interface: argument parsing only; every command calls the Python API."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from .. import __version__
from ..messages import MissingExtra, setup
from .photos import add_colorize, add_evaluate, add_prepare
from .serving import add_export, add_serve
from .training import add_report, add_train

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (the full usage is one --help away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="autocolor", description="Colorize black-and-white photos with a pix2pix GAN, or train your own."
    )
    parser.add_argument("--version", action="version", version=f"autocolor {__version__}")
    talk = parser.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="only errors and warnings on stderr")
    talk.add_argument("-v", "--verbose", action="store_true", help="also debugging detail on stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    for add in (add_prepare, add_colorize, add_evaluate, add_serve, add_export, add_train, add_report):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup(1 if args.verbose else -1 if args.quiet else 0)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError, MissingExtra) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    """The `autocolor` command: `main`, and on Ctrl-C an exit that does not wait for worker threads (a video
    being written, onnxruntime's pool) to notice; everything worth keeping was recorded before."""
    code = 130
    try:
        code = main()
    except KeyboardInterrupt:  # a second Ctrl-C while the first was being handled
        pass
    finally:
        if code == 130:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)
