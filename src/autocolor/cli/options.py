"""Option types shared by the commands: ranges, shards, lists of counts, the backend choice."""

from __future__ import annotations

import argparse


def shard(text: str):
    from ..scan import Shard

    try:
        return Shard.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix(f"--shard {text}: ")) from None


def counts(text: str) -> list[int]:
    try:
        counts = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 0,1,5,10, got '{text}'") from None
    if any(c < 0 for c in counts):
        raise argparse.ArgumentTypeError(f"hint counts must be 0 or more, got '{text}'")
    return counts


def int_range(low: int, high: int | None = None):
    """An argparse `type`: a whole number in [low, high], with a one-line message naming the range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            span = f"at least {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"must be {span}, got {value}")
        return value

    return parse


def add_backend(p) -> None:
    p.add_argument(
        "--backend",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="onnx (onnxruntime) or torch (PyTorch, the [train] extra); auto: onnx unless cuda/bf16 is asked for",
    )
