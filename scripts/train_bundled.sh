#!/usr/bin/env bash
# Train the bundled colorizer (v3: pretrained encoder, colour classes, hints) end to end; CPU or CUDA.
#
#   scripts/train_bundled.sh [RUN_DIR]          (default runs/v3; rerun the same command to resume)
#
# Then: scripts/choose_temperature.py RUN_DIR (the default vividness, on the selection split) and
# `autocolor export` (see MODEL_CARD.md). Environment: DATA (colour photos, default ../shared/photos/train),
# DEVICE (cpu | cuda, default: cuda when available), PYTHON (default: python), THREADS (torch CPU threads).
# Every 10th photo of DATA (sorted by path) is held out as the selection split (checkpoint, temperature);
# ../shared/photos/val is the test set and is not used here.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/v3}
DATA=${DATA:-../shared/photos/train}
PYTHON=${PYTHON:-python}
DEVICE=${DEVICE:-$($PYTHON -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')}
mkdir -p "$RUN"

# selection split: symlinks to every 10th photo (select/) and the other nine (train/)
if [ ! -d "$RUN/split" ]; then
  $PYTHON - "$DATA" "$RUN/split" <<'PY'
import os, sys
from pathlib import Path
from autocolor.io import list_images
data, split = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
for i, p in enumerate(list_images(data)):
    dst = split / ("select" if i % 10 == 9 else "train") / p.relative_to(data)
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(p, dst)
PY
fi

[ -n "${THREADS:-}" ] && export OMP_NUM_THREADS=$THREADS
args=(--config configs/v3.toml --data "$RUN/split/train" --val "$RUN/split/select" --out "$RUN/train"
      --set "train.device=\"$DEVICE\"")
[ -f "$RUN/train/checkpoints/latest" ] && args+=(--resume)
$PYTHON -m autocolor train "${args[@]}"
echo "done: $RUN/train/generator (final) and $RUN/train/best (best score on the selection split)"
