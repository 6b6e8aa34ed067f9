#!/usr/bin/env bash
# A user's first install: `pip install .` (no extras) into a fresh venv in /tmp, then check that it has no
# PyTorch, colorizes a real photo through the CLI and the Python API, and that site-packages stays under
# 250 MB. Prints the time each step took.   Usage: bench/fresh_install.sh [PHOTO]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PHOTO="${1:-$(ls "$ROOT"/examples/*.jpg | head -n 1)}"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d /tmp/autocolor-fresh.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
start=$(date +%s)
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --upgrade pip
# build from a copy of the tracked files, so local build folders and venvs stay out of it
git -C "$ROOT" ls-files -z | (cd "$ROOT" && tar --null -T - -cf -) | (mkdir "$WORK/src" && tar -xf - -C "$WORK/src")
t0=$(date +%s)
"$WORK/venv/bin/pip" install -q "$WORK/src"
echo "pip install . took $(( $(date +%s) - t0 )) s"
cd "$WORK"
if "$WORK/venv/bin/python" -c "import torch" 2>/dev/null; then echo "FAIL: torch is installed"; exit 1; fi
echo "ok: no torch"
t0=$(date +%s)
"$WORK/venv/bin/autocolor" colorize "$PHOTO" -o "$WORK/out"
ls "$WORK/out" | grep -q . || { echo "FAIL: no output from the CLI"; exit 1; }
echo "ok: CLI colorized $(basename "$PHOTO") in $(( $(date +%s) - t0 )) s"
"$WORK/venv/bin/python" - "$PHOTO" <<'PY'
import sys
import numpy as np
from autocolor import Colorizer
out = np.asarray(Colorizer.from_pretrained().colorize(sys.argv[1])).astype(int)
spread = np.abs(out[..., 0] - out[..., 2]).mean()
assert spread > 1, f"the result looks gray (mean |R-B| = {spread:.2f})"
assert "torch" not in sys.modules
print(f"ok: API colorized it (mean |R-B| = {spread:.1f} levels)")
PY
SITE="$("$WORK/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
MB=$(du -sm "$SITE" | cut -f1)
echo "site-packages: $MB MB"
[ "$MB" -lt 250 ] || { echo "FAIL: site-packages is $MB MB (limit 250)"; exit 1; }
echo "all checks passed in $(( $(date +%s) - start )) s"
