"""Command-line interface: argument parsing only; every command calls the Python API."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def _cmd_prepare(args: argparse.Namespace) -> int:
    from . import prepare

    if args.tool == "grayscale":
        report = prepare.grayscale(args.original, args.grayscale, fmt=args.format, workers=args.workers)
    else:
        report = prepare.combine(
            args.original,
            args.combined,
            gray_dir=args.grayscale,
            size=args.size,
            fmt=args.format,
            workers=args.workers,
        )
    print(report.summary(), file=sys.stderr)
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autocolor", description="Colorize black-and-white photos with a pix2pix GAN, or train your own."
    )
    parser.add_argument("--version", action="version", version=f"autocolor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    prep = sub.add_parser("prepare", help="dataset tools: grayscale copies and gray|colour pairs")
    tools = prep.add_subparsers(dest="tool", required=True)
    g = tools.add_parser("grayscale", help="write a grayscale copy of every photo, mirroring the folder tree")
    g.add_argument("--original", required=True, help="folder of colour photos (recursed)")
    g.add_argument("--grayscale", required=True, help="output folder")
    c = tools.add_parser("combine", help="write gray|colour side-by-side pairs (pix2pix A|B format)")
    c.add_argument("--original", required=True, help="folder of colour photos (recursed)")
    c.add_argument("--grayscale", help="folder of matching gray photos (default: made from the colour ones)")
    c.add_argument("--combined", required=True, help="output folder")
    c.add_argument("--size", type=int, default=256, help="side of each half, in pixels (default 256)")
    for p in (g, c):
        p.add_argument(
            "--format",
            choices=("jpg", "png"),
            default="jpg",
            help="output format (jpg: quality 95, no chroma subsampling)",
        )
        p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
        p.set_defaults(func=_cmd_prepare)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
