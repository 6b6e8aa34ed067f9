"""Remake the README's demo strips (docs/demo/*.side-by-side.jpg): `make demo`'s side-by-side outputs for the
photos in examples/ (gray input left, bundled model right), scaled to 300 px high.

    python scripts/readme_demo.py            # runs `autocolor colorize examples -o OUT --side-by-side` itself
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image

from autocolor.cli import main as autocolor

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "demo"))
    p.add_argument("--height", type=int, default=300)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if autocolor(["colorize", str(ROOT / "examples"), "-o", tmp, "--side-by-side"]) != 0:
            raise SystemExit("colorizing the examples failed")
        for strip in sorted(Path(tmp).glob("*.side-by-side.jpg")):
            im = Image.open(strip)
            im = im.resize((round(im.width * args.height / im.height), args.height), Image.Resampling.LANCZOS)
            im.save(Path(args.out) / strip.name, quality=88, subsampling=0)
            print(Path(args.out) / strip.name)


if __name__ == "__main__":
    main()
