"""Commands on photos and videos: prepare (dataset tools), colorize, evaluate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import DEVICES, PRECISIONS, RENDER_SIZES
from .options import add_backend, add_vividness, counts, int_range, load_colorizer, pick, shard


def _cmd_prepare(args: argparse.Namespace) -> int:
    from .. import prepare

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


def add_prepare(sub) -> None:
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


def _cmd_colorize(args: argparse.Namespace) -> int:
    from ..colorize_files import colorize_files
    from ..io import ImageError

    hints = None
    if args.hints:
        from ..hints import load_hints

        if len(args.inputs) != 1 or not Path(args.inputs[0]).is_file():
            print("error: --hints applies to one file: give exactly one photo or video", file=sys.stderr)
            return 2
        try:
            hints = load_hints(args.hints)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    colorizer = load_colorizer(args, max_pixels=args.max_pixels)
    reference = None
    if args.reference:
        try:
            reference = colorizer.reference(args.reference, args.render_size)
        except (ImageError, ValueError) as e:
            print(f"error: reference photo: {e}", file=sys.stderr)
            return 2
    options = pick(args, "render_size", "side_by_side", "overwrite", "shard", "manifest", "workers", "crf")
    report = colorize_files(
        colorizer,
        args.inputs,
        args.output,
        fmt=args.format,
        hints=hints,
        reference=reference,
        stabilize=not args.no_stabilize,
        **options,
    )
    print(f"{report.summary()}; results in {args.output}/", file=sys.stderr)
    return 0 if report.ok else 1


def add_colorize(sub) -> None:
    from ..io import DEFAULT_MAX_PIXELS

    c = sub.add_parser("colorize", help="colorize photos and videos (files, folders or glob patterns)")
    c.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image or video files, folders (recursed) or glob patterns"
    )
    c.add_argument("-o", "--output", default="colorized", help="output folder (default: colorized/)")
    c.add_argument("--weights", help="generator folder (config.json + model.safetensors); default: bundled")
    c.add_argument(
        "--render-size",
        type=int_range(*RENDER_SIZES),
        help="long side the network sees (default: the model's)",
    )
    c.add_argument(
        "--side-by-side", action="store_true", help="also write NAME.side-by-side.EXT: gray | colour"
    )
    c.add_argument(
        "--format", choices=("jpg", "png", "webp", "tiff"), help="output format (default: the input's)"
    )
    c.add_argument("--device", choices=DEVICES, default="cpu")
    c.add_argument("--precision", choices=PRECISIONS, default="fp32")
    c.add_argument("--max-pixels", type=int_range(1), default=DEFAULT_MAX_PIXELS, help="refuse larger images")
    c.add_argument("--overwrite", action="store_true", help="redo outputs that exist (default: keep them)")
    c.add_argument(
        "--shard",
        type=shard,
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
    add_backend(c)
    add_vividness(c)
    c.add_argument(
        "--hints",
        metavar="JSON",
        help="colour hints for the one input photo or video (same points on every frame): "
        '[{"x":..,"y":..,"color":"#rrggbb"}]',
    )
    c.add_argument(
        "--reference",
        metavar="PHOTO",
        help="a colour photo whose colours every input takes where it matches (photos and every shot of a "
        "video); inputs it does not match keep automatic colour",
    )
    c.set_defaults(func=_cmd_colorize)


def _cmd_evaluate_video(args: argparse.Namespace) -> int:
    from ..io import ImageError
    from ..video.evaluate import evaluate_video, video_table

    colorizer = load_colorizer(args, weights=args.weights[0] if args.weights else None)
    results, failed = [], False
    for clip in args.video:
        try:
            results.append(
                evaluate_video(
                    colorizer, clip, args.render_size, limit=args.limit, reference_frame=args.reference_frame
                )
            )
        except (ImageError, ValueError) as e:  # a bad clip: one line, the others go on
            print(f"error: {e}", file=sys.stderr)
            failed = True
    print(video_table(results), end="")
    return 1 if failed else 0


def _cmd_evaluate_reference(args: argparse.Namespace) -> int:
    from ..io import list_images
    from ..reference_eval import evaluate_pairs, pairs_table, write_rows

    if not args.data:
        print("error: --reference-pairs needs --data FOLDER", file=sys.stderr)
        return 2
    colorizer = load_colorizer(args, weights=args.weights[0] if args.weights else None)
    paths = list_images(args.data)[: args.limit]
    rows = evaluate_pairs(colorizer, paths, args.reference_pairs)
    print(pairs_table(rows, args.reference_pairs), end="")
    if args.out:
        write_rows(rows, Path(args.out) / f"reference_{args.reference_pairs}.csv")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from ..evaluate import evaluate, markdown_table

    if args.video:
        return _cmd_evaluate_video(args)
    if args.reference_frame is not None:
        print("error: --reference-frame needs --video CLIP", file=sys.stderr)
        return 2
    if args.reference_pairs:
        return _cmd_evaluate_reference(args)
    if not args.data:
        print("error: evaluate needs --data FOLDER or --video CLIP", file=sys.stderr)
        return 2

    options = pick(
        args, "out", "render_size", "limit", "device", "precision", "backend", "max_pixels", "hints"
    )
    summary = evaluate(args.data, args.weights or [None], vividness=args.vividness, **options)
    print(markdown_table(summary), end="")
    if args.out:
        print(f"tables and gallery in {args.out}/", file=sys.stderr)
    return 1 if summary["skipped"] else 0


def add_evaluate(sub) -> None:
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
    from ..io import DEFAULT_MAX_PIXELS

    e.add_argument("--render-size", type=int_range(*RENDER_SIZES))
    e.add_argument("--out", help="folder for per_image.csv, summary.json, summary.md and the gallery")
    e.add_argument(
        "--limit", type=int_range(1), help="only the first N photos in name order (or frames of a video)"
    )
    e.add_argument("--max-pixels", type=int_range(1), default=DEFAULT_MAX_PIXELS, help="refuse larger images")
    e.add_argument(
        "--hints",
        type=counts,
        default=[0],
        metavar="N,N,..",
        help="numbers of colour hints simulated from the truth, one row each (e.g. 0,1,2,5,10,20)",
    )
    e.add_argument("--device", choices=DEVICES, default="cpu")
    e.add_argument("--precision", choices=PRECISIONS, default="fp32")
    e.add_argument(
        "--reference-pairs",
        choices=("crops", "random"),  # reference_eval.PAIRINGS (not imported at start-up)
        help="with --data: colour from a reference, on pairs whose truth is known: crops (reference = a photo's "
        "left 60%%, target = its right 60%%) or random (another photo of the folder as reference)",
    )
    e.add_argument(
        "--reference-frame",
        type=int_range(0),
        metavar="N",
        help="with --video: also colour the clip after its frame N (in true colour) as the reference",
    )
    add_backend(e)
    add_vividness(e)
    e.set_defaults(func=_cmd_evaluate)
