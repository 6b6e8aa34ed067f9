"""Fingerprints of what the bundled model makes of a folder of photos, to show that a change of code changed
no output (refactors): one line per photo, the SHA-256 of its colorized pixels (automatic, then with 3 hints).

    python scripts/output_hashes.py ../shared/photos/val > after.txt
    git worktree add /tmp/before REV && PYTHONPATH=/tmp/before/src python scripts/output_hashes.py ... > before.txt
    diff before.txt after.txt            # nothing: the same outputs bit for bit
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from autocolor.pipeline import Colorizer


def main() -> None:
    colorizer = Colorizer.from_pretrained()
    for path in sorted(Path(sys.argv[1]).glob("*.jpg")):
        auto = np.asarray(colorizer.colorize(path))
        h, w = auto.shape[:2]
        hints = [
            (w // 4, h // 3, "#b22222"),
            (w // 2, h // 2, "#2e6b30"),
            (3 * w // 4, 2 * h // 3, "#1e50ff"),
        ]
        hinted = np.asarray(colorizer.colorize(path, hints=hints))
        digest = [hashlib.sha256(a.tobytes()).hexdigest()[:16] for a in (auto, hinted)]
        print(path.name, *digest, flush=True)


if __name__ == "__main__":
    main()
