"""Command-line interface: argument parsing only; every command calls the Python API."""

from __future__ import annotations

import argparse
import sys

from . import __version__


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (the full usage is one --help away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _shard(text: str):
    from .scan import Shard

    try:
        return Shard.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix(f"--shard {text}: ")) from None


def _cmd_prepare(args: argparse.Namespace) -> int:
    from . import prepare

    common = {
        "fmt": args.format,
        "workers": args.workers,
        "overwrite": args.overwrite,
        "manifest": args.manifest,
    }
    if args.tool == "grayscale":
        report = prepare.grayscale(args.original, args.grayscale, **common)
    else:
        report = prepare.combine(
            args.original, args.combined, gray_dir=args.grayscale, size=args.size, **common
        )
    print(report.summary(), file=sys.stderr)
    return 0 if report.ok else 1


def _train_config(args: argparse.Namespace):
    from .config import Config

    overrides = list(args.set or [])
    for flag in ("steps", "batch_size", "size", "checkpoint_every", "precision", "device"):
        value = getattr(args, flag, None)
        if value is not None:
            overrides.append(f"train.{flag}={value!r}" if isinstance(value, str) else f"train.{flag}={value}")
    return Config.load(args.config, overrides)


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import train

    status = train(
        _train_config(args), args.data, args.out, val=args.val, resume=args.resume, overwrite=args.overwrite
    )
    return 0 if status == "done" else 130


def _cmd_bench_train(args: argparse.Namespace) -> int:
    import json

    from .bench import bench_train

    print(
        json.dumps(
            bench_train(
                size=args.size,
                batch_size=args.batch_size,
                ngf=args.ngf,
                precision=args.precision,
                steps=args.steps,
                warmup=args.warmup,
                channels_last=not args.no_channels_last,
                config=args.config,
            )
        )
    )
    return 0


def _cmd_colorize(args: argparse.Namespace) -> int:
    from .colorize import colorize_files
    from .pipeline import Colorizer

    colorizer = Colorizer.from_pretrained(
        args.weights,
        device=args.device,
        precision=args.precision,
        max_pixels=args.max_pixels,
        backend=args.backend,
    )
    report = colorize_files(
        colorizer,
        args.inputs,
        args.output,
        render_size=args.render_size,
        side_by_side=args.side_by_side,
        fmt=args.format,
        overwrite=args.overwrite,
        shard=args.shard,
        manifest=args.manifest,
        workers=args.workers,
        stabilize=not args.no_stabilize,
        crf=args.crf,
    )
    print(f"{report.summary()}; results in {args.output}/", file=sys.stderr)
    return 0 if report.ok else 1


def _add_colorize(sub) -> None:
    from .io import DEFAULT_MAX_PIXELS

    c = sub.add_parser("colorize", help="colorize photos and videos (files, folders or glob patterns)")
    c.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image or video files, folders (recursed) or glob patterns"
    )
    c.add_argument("-o", "--output", default="colorized", help="output folder (default: colorized/)")
    c.add_argument("--weights", help="generator folder (config.json + model.safetensors); default: bundled")
    c.add_argument(
        "--render-size", type=int_range(16), help="long side the network sees (default: the model's)"
    )
    c.add_argument(
        "--side-by-side", action="store_true", help="also write NAME.side-by-side.EXT: gray | colour"
    )
    c.add_argument(
        "--format", choices=("jpg", "png", "webp", "tiff"), help="output format (default: the input's)"
    )
    c.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    c.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    c.add_argument("--max-pixels", type=int_range(1), default=DEFAULT_MAX_PIXELS, help="refuse larger images")
    c.add_argument("--overwrite", action="store_true", help="redo outputs that exist (default: keep them)")
    c.add_argument(
        "--shard",
        type=_shard,
        default=None,
        metavar="K/N",
        help="do part K of N (0-based; e.g. $SLURM_ARRAY_TASK_ID/N): parts split the files by a hash of "
        "their path, never overlap and together cover all",
    )
    c.add_argument("--manifest", help="JSON-lines record of every file (default: OUTPUT/manifest.jsonl)")
    c.add_argument("--workers", type=int_range(1), default=2, help="files in progress at once (default 2)")
    c.add_argument(
        "--no-stabilize", action="store_true", help="videos: colorize each frame on its own (flickers)"
    )
    c.add_argument("--crf", type=int, default=18, help="videos: H.264 quality, lower is better (default 18)")
    _add_backend(c)
    c.set_defaults(func=_cmd_colorize)


def _add_backend(p) -> None:
    p.add_argument(
        "--backend",
        choices=("auto", "onnx", "torch"),
        default="auto",
        help="onnx (onnxruntime) or torch (PyTorch, the [train] extra); auto: onnx unless cuda/bf16 is asked for",
    )


def _cmd_evaluate_video(args: argparse.Namespace) -> int:
    from .io import ImageError
    from .pipeline import Colorizer
    from .video.evaluate import evaluate_video, video_table

    colorizer = Colorizer.from_pretrained(args.weights[0] if args.weights else None, device=args.device)
    results, failed = [], False
    for clip in args.video:
        try:
            results.append(evaluate_video(colorizer, clip, args.render_size, limit=args.limit))
        except ImageError as e:  # a bad clip: one line, the others go on
            print(f"error: {e}", file=sys.stderr)
            failed = True
    print(video_table(results), end="")
    return 1 if failed else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate, markdown_table

    if args.video:
        return _cmd_evaluate_video(args)
    if not args.data:
        print("error: evaluate needs --data FOLDER or --video CLIP", file=sys.stderr)
        return 2

    summary = evaluate(
        args.data,
        args.weights or [None],
        out=args.out,
        render_size=args.render_size,
        limit=args.limit,
        device=args.device,
        precision=args.precision,
        backend=args.backend,
        max_pixels=args.max_pixels,
    )
    print(markdown_table(summary), end="")
    if args.out:
        print(f"tables and gallery in {args.out}/", file=sys.stderr)
    return 1 if summary["skipped"] else 0


def _add_evaluate(sub) -> None:
    e = sub.add_parser(
        "evaluate", help="measure PSNR, SSIM, CIEDE2000, colourfulness, AuC against the gray baseline"
    )
    e.add_argument("--data", help="folder of colour photos")
    e.add_argument(
        "--video",
        action="append",
        metavar="CLIP",
        help="colour video: flicker (E_warp), PSNR and colourfulness with and without stabilisation; repeatable",
    )
    e.add_argument(
        "--weights",
        action="append",
        metavar="[NAME=]DIR",
        help="generator folder; repeat to compare models (default: the bundled model)",
    )
    from .io import DEFAULT_MAX_PIXELS

    e.add_argument("--render-size", type=int_range(16))
    e.add_argument("--out", help="folder for per_image.csv, summary.json, summary.md and the gallery")
    e.add_argument(
        "--limit", type=int_range(1), help="only the first N photos in name order (or frames of a video)"
    )
    e.add_argument("--max-pixels", type=int_range(1), default=DEFAULT_MAX_PIXELS, help="refuse larger images")
    e.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    e.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    _add_backend(e)
    e.set_defaults(func=_cmd_evaluate)


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .server import ServerLimits, bind, serve
    except ImportError as e:
        print(
            f"error: the web server needs the [web] extra: pip install 'autocolor[web]' ({e})",
            file=sys.stderr,
        )
        return 2
    from .pipeline import Colorizer
    from .site import find_browser_model

    limits = ServerLimits(
        max_upload_bytes=args.max_upload_mb * 1024 * 1024,
        max_pixels=args.max_pixels,
        concurrency=args.concurrency,
        queue=args.queue,
    )
    with bind(args.host, args.port) as sock:  # fail fast, before the model loads
        colorizer = Colorizer.from_pretrained(
            args.weights,
            device=args.device,
            precision=args.precision,
            render_size=args.render_size,
            backend=args.backend,
        )
        serve(colorizer, limits=limits, sock=sock, browser_dir=find_browser_model(args.weights))
    return 0


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


def _add_serve(sub) -> None:
    s = sub.add_parser("serve", help="a web page for colorizing photos")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int_range(0, 65535), default=8000, help="0: any free port")
    s.add_argument("--weights", help="generator folder (default: bundled)")
    s.add_argument("--render-size", type=int_range(16, 1024), help="long side the network sees")
    s.add_argument("--max-upload-mb", type=int_range(1), default=40)
    s.add_argument("--max-pixels", type=int_range(1), default=50_000_000)
    s.add_argument(
        "--concurrency", type=int_range(1), default=1, help="photos colorized at once (each needs memory)"
    )
    s.add_argument(
        "--queue", type=int_range(0), default=8, help="uploads that may wait for a turn; more get 503"
    )
    s.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    s.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    _add_backend(s)
    s.set_defaults(func=_cmd_serve)


def _cmd_export(args: argparse.Namespace) -> int:
    if not (args.out or args.onnx or args.site):
        print(
            "error: export needs --out DIR (safetensors), --onnx DIR (ONNX graphs) and/or --site DIR (web site)",
            file=sys.stderr,
        )
        return 2
    if args.out or args.onnx:
        status = _export_weights(args)
        if status:
            return status
    if args.site:
        from .site import export_site

        print(export_site(args.site, args.onnx or args.weights))
    return 0


def _export_weights(args: argparse.Namespace) -> int:
    try:
        from .checkpoint import export_pretrained
        from .onnx_export import export_onnx
    except ImportError as e:
        print(f"error: export needs the [train] extra: pip install 'autocolor[train]' ({e})", file=sys.stderr)
        return 2
    from .backends import bundled_weights

    weights = args.weights or bundled_weights()
    overrides = {
        k: v
        for k, v in (
            ("render_size", args.render_size),
            ("chroma_gain", args.chroma_gain),
            ("guide_radius", args.guide_radius),
            ("guide_eps", args.guide_eps),
        )
        if v is not None
    }
    if args.out:
        print(export_pretrained(weights, args.out, half=not args.fp32, **overrides))
    if args.onnx:
        print(export_onnx(weights, args.onnx, **overrides))
    return 0


def _add_export(sub) -> None:
    x = sub.add_parser(
        "export",
        help="a generator folder as float16 safetensors (--out), ONNX graphs (--onnx) or a web site (--site)",
    )
    x.add_argument("--weights", help="generator folder, e.g. RUN/best (default: the bundled model)")
    x.add_argument("--out", help="folder for config.json + model.safetensors")
    x.add_argument(
        "--onnx", metavar="DIR", help="folder for config.json + generator.onnx + colour-path graphs"
    )
    x.add_argument(
        "--site",
        metavar="DIR",
        help="a static web site that colorizes in the browser (from --onnx's graphs, or the --weights folder's)",
    )
    x.add_argument(
        "--fp32", action="store_true", help="keep float32 weights (default: float16, half the size)"
    )
    x.add_argument("--render-size", type=int)
    x.add_argument("--chroma-gain", type=float)
    x.add_argument(
        "--guide-radius", type=int, help="guided upsampling radius in render pixels (0 = bilinear)"
    )
    x.add_argument("--guide-eps", type=float)
    x.set_defaults(func=_cmd_export)


def _add_train(sub) -> None:
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
    t.add_argument("--precision", choices=("fp32", "bf16"))
    t.add_argument("--device", choices=("cpu", "cuda"))
    t.set_defaults(func=_cmd_train)

    b = sub.add_parser("bench", help="measure speed: bench train")
    bs = b.add_subparsers(dest="what", required=True)
    bt = bs.add_parser("train", help="images/s and peak memory of full G+D training steps")
    bt.add_argument("--size", type=int, default=256)
    bt.add_argument("--batch-size", type=int, default=1)
    bt.add_argument("--ngf", type=int, default=64)
    bt.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    bt.add_argument("--steps", type=int, default=10)
    bt.add_argument("--warmup", type=int, default=3)
    bt.add_argument("--no-channels-last", action="store_true")
    bt.add_argument("--config", help="TOML recipe for the architecture (default: pix2pix for --size)")
    bt.set_defaults(func=_cmd_bench_train)


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report

    try:
        print(write_report(args.run))
    except ImportError as e:  # matplotlib missing: say which extra to install
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _add_report(sub) -> None:
    r = sub.add_parser(
        "report", help="write RUN/report.html and RUN/curves.png from a run folder (no server)"
    )
    r.add_argument(
        "run", metavar="RUN", help="training run folder (autocolor train --out), running or finished"
    )
    r.set_defaults(func=_cmd_report)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    c.add_argument(
        "--size", type=int_range(8), default=256, help="side of each half, in pixels (default 256)"
    )
    for p in (g, c):
        p.add_argument(
            "--format",
            choices=("jpg", "png"),
            default="jpg",
            help="output format (jpg: quality 95, no chroma subsampling)",
        )
        p.add_argument(
            "--workers", type=int_range(1), default=None, help="worker processes (default: all cores)"
        )
        p.add_argument(
            "--overwrite", action="store_true", help="redo outputs that exist (default: keep them)"
        )
        p.add_argument("--manifest", help="also record every file in this JSON-lines file")
        p.set_defaults(func=_cmd_prepare)
    _add_colorize(sub)
    _add_evaluate(sub)
    _add_serve(sub)
    _add_export(sub)
    _add_train(sub)
    _add_report(sub)
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
