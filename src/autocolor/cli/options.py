"""Option types shared by the commands: ranges, shards, lists of counts, the backend choice."""

from __future__ import annotations

import argparse

from ..config import BACKENDS


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


def vividness(text: str) -> float:
    from ..config import VIVIDNESS_RANGE, vividness_to_temperature

    try:
        value = float(text)
        vividness_to_temperature(value)
    except ValueError:
        lo, hi = VIVIDNESS_RANGE
        raise argparse.ArgumentTypeError(
            f"expected a number between {lo:g} and {hi:g}, got {text!r}"
        ) from None
    return value


def add_vividness(p) -> None:
    p.add_argument(
        "--vividness",
        type=vividness,
        metavar="V",
        help="colour strength of a colour-class model, 0 (muted) to 1 (bold: close to the likeliest colour); "
        "default: the model's own",
    )


def add_backend(p) -> None:
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="onnx (onnxruntime) or torch (PyTorch, the [train] extra); auto: onnx unless cuda/bf16 is asked for",
    )


def load_colorizer(args: argparse.Namespace, weights=None, **kwargs):
    """The Colorizer the command's options ask for: --weights (or `weights`), --device, --precision,
    --backend and --vividness, plus `kwargs` (e.g. max_pixels, render_size)."""
    from ..pipeline import Colorizer  # not at start-up: `autocolor --help` stays fast

    return Colorizer.from_pretrained(
        weights if weights is not None else args.weights,
        device=args.device,
        precision=getattr(args, "precision", "fp32"),
        backend=getattr(args, "backend", "auto"),
        vividness=args.vividness,
        **kwargs,
    )


def pick(args: argparse.Namespace, *names: str) -> dict:
    """The options `names` of a parsed command line, as keyword arguments for the API call they go to."""
    return {name: getattr(args, name) for name in names}
