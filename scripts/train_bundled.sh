#!/usr/bin/env bash
# Train the bundled colorizer (v2, colour hints) end to end; runs unchanged on CPU or CUDA.
#
#   scripts/train_bundled.sh [RUN_DIR]          (default runs/hints-v2; rerun the same command to resume)
#
# Stage A goes to RUN_DIR/a, stage B to RUN_DIR/b; the bundled weights are RUN_DIR/b's generator, exported.
#
# Environment: DATA (colour photos, default ../shared/photos/train), DEVICE (cpu | cuda, default: cuda when
# available), INIT (the hint-free generator to start from; default: the v1 bundled weights taken from git
# commit V1_COMMIT), PYTHON (default: python), THREADS (torch CPU threads).
# Every 10th photo of DATA (sorted by path) is held out as the selection split (checkpoint, render size and
# calibration are chosen on it); ../shared/photos/val is the test set and is not used here. STEPS is gone:
# the step counts are part of the recipe (configs/hints.toml, configs/hints-stage2.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:-runs/hints-v2}
DATA=${DATA:-../shared/photos/train}
PYTHON=${PYTHON:-python}
V1_COMMIT=${V1_COMMIT:-c586418}
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

# the hint-free generator to fine-tune: the v1 bundled weights
if [ -z "${INIT:-}" ]; then
  INIT="$RUN/init-v1"
  if [ ! -f "$INIT/model.safetensors" ]; then
    mkdir -p "$INIT"
    for f in config.json model.safetensors; do
      git show "$V1_COMMIT:src/autocolor/weights/$f" > "$INIT/$f"
    done
  fi
fi

# stage A: the v1 generator fine-tuned with hints (configs/hints.toml); stage B continues from its generator
# (configs/hints-stage2.toml). Each stage resumes from its last checkpoint when rerun.
[ -n "${THREADS:-}" ] && export OMP_NUM_THREADS=$THREADS
stage() {  # stage CONFIG OUT INIT
  local args=(--config "$1" --data "$RUN/split/train" --val "$RUN/split/select" --out "$2"
              --set "train.init_generator=\"$3\"" --set "train.device=\"$DEVICE\"")
  [ "$DEVICE" = cuda ] && args+=(--set 'train.precision="bf16"')
  [ -f "$2/checkpoints/latest" ] && args+=(--resume)
  $PYTHON -m autocolor train "${args[@]}"
}
stage configs/hints.toml "$RUN/a" "$INIT"
stage configs/hints-stage2.toml "$RUN/b" "$RUN/a/generator"
echo "done: $RUN/b/generator (final) and $RUN/b/best (best validation score on the selection split)"
