"""Commands that publish a model: serve (the web page), export (weights, ONNX, a static site)."""

from __future__ import annotations

import argparse
import sys

from ..config import DEVICES, PRECISIONS, RENDER_SIZES
from ..messages import MissingExtra
from .options import add_backend, add_vividness, int_range, load_colorizer, vividness


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from ..server import ServerLimits, bind, serve
    except ImportError as e:
        raise MissingExtra("the web server", "web") from e
    from ..site import find_browser_model

    limits = ServerLimits(
        max_upload_bytes=args.max_upload_mb * 1024 * 1024,
        max_pixels=args.max_pixels,
        concurrency=args.concurrency,
        queue=args.queue,
    )
    with bind(args.host, args.port) as sock:  # fail fast, before the model loads
        colorizer = load_colorizer(args, render_size=args.render_size)
        serve(colorizer, limits=limits, sock=sock, browser_dir=find_browser_model(args.weights))
    return 0


def add_serve(sub) -> None:
    s = sub.add_parser("serve", help="a web page for colorizing photos")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int_range(0, 65535), default=8000, help="0: any free port")
    s.add_argument("--weights", help="generator folder (default: bundled)")
    s.add_argument("--render-size", type=int_range(*RENDER_SIZES), help="long side the network sees")
    s.add_argument("--max-upload-mb", type=int_range(1), default=40)
    s.add_argument("--max-pixels", type=int_range(1), default=50_000_000)
    s.add_argument(
        "--concurrency", type=int_range(1), default=1, help="photos colorized at once (each needs memory)"
    )
    s.add_argument(
        "--queue", type=int_range(0), default=8, help="uploads that may wait for a turn; more get 503"
    )
    s.add_argument("--device", choices=DEVICES, default="cpu")
    s.add_argument("--precision", choices=PRECISIONS, default="fp32")
    add_backend(s)
    add_vividness(s)
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
        from ..site import export_site

        print(export_site(args.site, args.onnx or args.weights))
    return 0


def _export_weights(args: argparse.Namespace) -> int:
    try:
        from ..checkpoint import export_pretrained
        from ..onnx_export import export_onnx
    except ImportError as e:
        raise MissingExtra("autocolor export", "train") from e
    from ..config import vividness_to_temperature
    from ..model_folder import bundled_weights

    weights = args.weights or bundled_weights()
    temperature = None if args.vividness is None else vividness_to_temperature(args.vividness)
    overrides = {
        k: v
        for k, v in (
            ("render_size", args.render_size),
            ("chroma_gain", args.chroma_gain),
            ("guide_radius", args.guide_radius),
            ("guide_eps", args.guide_eps),
            ("temperature", temperature),
            ("hint_sigma_s", args.hint_sigma_s),
            ("hint_sigma_r", args.hint_sigma_r),
            ("hint_reach", args.hint_reach),
        )
        if v is not None
    }
    if args.out:
        print(export_pretrained(weights, args.out, half=not args.fp32, **overrides))
    if args.onnx:
        print(export_onnx(weights, args.onnx, **overrides))
    return 0


def add_export(sub) -> None:
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
    x.add_argument("--render-size", type=int_range(*RENDER_SIZES))
    x.add_argument("--chroma-gain", type=float)
    x.add_argument(
        "--guide-radius", type=int, help="guided upsampling radius in render pixels (0 = bilinear)"
    )
    x.add_argument("--guide-eps", type=float)
    x.add_argument(
        "--vividness", type=vividness, help="default colour strength of a colour-class model, 0 to 1"
    )
    x.add_argument(
        "--hint-sigma-s",
        type=float,
        help="hints spread along the lightness this far, in render pixels (0: off)",
    )
    x.add_argument(
        "--hint-sigma-r", type=float, help="... and stop at lightness edges of about this many L units"
    )
    x.add_argument(
        "--hint-reach", type=float, help="... fading where a lone hint's strength falls below this"
    )
    x.set_defaults(func=_cmd_export)
