"""Commands for training: train, bench, report."""

from __future__ import annotations

import argparse
import sys

from ..config import DEVICES, PRECISIONS
from .options import pick


def _train_config(args: argparse.Namespace):
    from ..config import Config

    overrides = list(args.set or [])
    for flag in ("steps", "batch_size", "size", "checkpoint_every", "precision", "device"):
        value = getattr(args, flag, None)
        if value is not None:
            overrides.append(f"train.{flag}={value!r}" if isinstance(value, str) else f"train.{flag}={value}")
    return Config.load(args.config, overrides)


def _cmd_train(args: argparse.Namespace) -> int:
    from ..train import train

    status = train(
        _train_config(args), args.data, args.out, val=args.val, resume=args.resume, overwrite=args.overwrite
    )
    return 0 if status == "done" else 130


def _cmd_bench_train(args: argparse.Namespace) -> int:
    import json

    from ..bench import bench_train

    print(
        json.dumps(
            bench_train(
                channels_last=not args.no_channels_last,
                **pick(args, "size", "batch_size", "ngf", "precision", "steps", "warmup", "config"),
            )
        )
    )
    return 0


def add_train(sub) -> None:
    t = sub.add_parser("train", help="train a colorizer on a folder of colour photos")
    t.add_argument("--data", required=True, help="folder of colour photos or A|B pairs (recursed)")
    t.add_argument("--val", help="folder of colour photos for validation")
    t.add_argument("--out", required=True, help="run folder (config, checkpoints, samples, generator/)")
    t.add_argument("--config", help="TOML recipe, e.g. configs/tiny.toml")
    t.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. --set train.lr=1e-4")
    t.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    t.add_argument(
        "--overwrite", action="store_true", help="start anew in a used --out, moving the old run aside first"
    )
    t.add_argument("--steps", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--size", type=int, help="training crop side")
    t.add_argument("--checkpoint-every", type=int)
    t.add_argument("--precision", choices=PRECISIONS)
    t.add_argument("--device", choices=DEVICES)
    t.set_defaults(func=_cmd_train)

    b = sub.add_parser("bench", help="measure speed: bench train")
    bs = b.add_subparsers(dest="what", required=True)
    bt = bs.add_parser("train", help="images/s and peak memory of full G+D training steps")
    bt.add_argument("--size", type=int, default=256)
    bt.add_argument("--batch-size", type=int, default=1)
    bt.add_argument("--ngf", type=int, default=64)
    bt.add_argument("--precision", choices=PRECISIONS, default="fp32")
    bt.add_argument("--steps", type=int, default=10)
    bt.add_argument("--warmup", type=int, default=3)
    bt.add_argument("--no-channels-last", action="store_true")
    bt.add_argument("--config", help="TOML recipe for the architecture (default: pix2pix for --size)")
    bt.set_defaults(func=_cmd_bench_train)


def _cmd_report(args: argparse.Namespace) -> int:
    from ..report import write_report

    try:
        print(write_report(args.run))
    except ImportError as e:  # matplotlib missing: say which extra to install
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def add_report(sub) -> None:
    r = sub.add_parser(
        "report", help="write RUN/report.html and RUN/curves.png from a run folder (no server)"
    )
    r.add_argument(
        "run", metavar="RUN", help="training run folder (autocolor train --out), running or finished"
    )
    r.set_defaults(func=_cmd_report)
