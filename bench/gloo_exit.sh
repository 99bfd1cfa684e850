#!/usr/bin/env bash
# How often a two-process CPU (gloo) training launch fails at its exit: N launches of a tiny
# `unetlab train --nproc 2` (the settings of tests/test_distributed.py), faulthandler on; the
# logs of failed launches are kept in OUT. Figures: the session-21 note and README
# ("Data-parallel"): 1 abort in 34 launches before `python -m unetlab` ended its torchrun
# processes with os._exit, 0 in 150 after.
#   bash bench/gloo_exit.sh OUT [N]        (default N: 150; about 7 s a launch on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?give an output folder}; n=${2:-150}
mkdir -p "$out"
python - "$out/data" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, "tests")
from test_train import write_blobs
write_blobs(Path(sys.argv[1]), 5)
PY
settings=(data.root="$out/data" "data.label_values=[0, 255]" model.depth=2 model.base_channels=4
  data.tile_size=32 train.seed=3 train.batch_size=2 model.norm=none augment.enabled=false
  train.optimizer=sgd train.lr=0.05 train.epochs=2 data.tiles_per_epoch=16 train.num_workers=0
  train.device=cpu data.weight_map=false)
failed=0
for i in $(seq "$n"); do
  rm -rf "$out/run"
  if ! PYTHONFAULTHANDLER=1 python -m unetlab train "${settings[@]/#/--set=}" --run-dir "$out/run" \
      --nproc 2 --no-progress --no-plan > "$out/launch.log" 2>&1; then
    failed=$((failed + 1)); cp "$out/launch.log" "$out/failed_$i.log"
  fi
done
echo "$failed of $n launches failed (logs: $out/failed_*.log)"
