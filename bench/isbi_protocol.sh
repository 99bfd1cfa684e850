#!/usr/bin/env bash
# Issue 16's ISBI protocol: train configs/isbi2012.yaml on slices 00-24 (30 min each, one
# seed after the other on a quiet machine), score slices 25-29 with the challenge's best
# threshold, with and without TTA. Figures: bench/README.md ("The issue's protocol, 3 seeds").
#   bash bench/isbi_protocol.sh OUT_DIR [SEED ...]        (default seeds: 0 1 2)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?give an output folder}; shift
if [ $# -eq 0 ]; then seeds=(0 1 2); else seeds=("$@"); fi
isbi=$(cd ../shared/data/isbi2012/train && pwd)
for part in train test; do mkdir -p "$out/data/$part/images" "$out/data/$part/masks"; done
for i in $(seq -w 0 29); do
  part=train; [ "$((10#$i))" -ge 25 ] && part=test
  for kind in images masks; do ln -sf "$isbi/$kind/$i.png" "$out/data/$part/$kind/$i.png"; done
done
for s in "${seeds[@]}"; do
  unetlab train --data "$out/data/train" --config configs/isbi2012.yaml --no-progress \
    --set train.seed="$s" --set data.seed="$s" --run-dir "$out/seed$s"
  for tta in "--tta" ""; do
    unetlab evaluate --checkpoint "$out/seed$s/checkpoints/best.pt" --data "$out/data/test" \
      --best-threshold $tta --json "$out/eval$s${tta:+_tta}.json"
  done
done
