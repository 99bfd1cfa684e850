#!/usr/bin/env bash
# Issue 16's ISBI protocol: train configs/isbi2012.yaml on slices 00-24 (30 min each, one
# seed after the other on a quiet machine), score slices 25-29 with the challenge's best
# threshold, with and without TTA, and with TTA and --watershed-seeds 0.9. Figures: bench/README.md ("The issue's protocol, 3 seeds").
#   bash bench/isbi_protocol.sh OUT_DIR [SEED ...]        (default seeds: 0 1 2)
#   PARALLEL=1 bash bench/isbi_protocol.sh OUT_DIR         (the seeds at once, one thread each)
#   MINUTES=5 bash bench/isbi_protocol.sh OUT_DIR          (train each seed 5 min, not 30)
# OUT_DIR is taken from where you call it (a relative one too). In it: data/train and
# data/test (links to slices 00-24 and 25-29 of ../shared/data/isbi2012/train, beside the
# repository), seedS/ (each seed's run) and evalS*.json (its scores).
set -euo pipefail
out=${1:?give an output folder}; shift
case $out in /*) ;; *) out="$PWD/$out" ;; esac  # before the cd below: the caller's folder
minutes=${MINUTES:-30}
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then seeds=(0 1 2); else seeds=("$@"); fi
isbi=$(cd ../shared/data/isbi2012/train && pwd)
for part in train test; do mkdir -p "$out/data/$part/images" "$out/data/$part/masks"; done
for i in $(seq -w 0 29); do
  part=train; [ "$((10#$i))" -ge 25 ] && part=test
  for kind in images masks; do ln -sf "$isbi/$kind/$i.png" "$out/data/$part/$kind/$i.png"; done
done
train() {  # seed, then any extra flags for unetlab train
  local s=$1; shift
  unetlab train --data "$out/data/train" --config configs/isbi2012.yaml --no-progress \
    --set train.seed="$s" --set data.seed="$s" --run-dir "$out/seed$s" --minutes "$minutes" "$@"
}
if [ "${PARALLEL:-0}" = 1 ]; then  # all seeds at once, one thread each: each gets a share of
  for s in "${seeds[@]}"; do OMP_NUM_THREADS=1 train "$s" > "$out/train$s.log" 2>&1 & done
  wait                             # the cores, less compute than a run alone
else
  for s in "${seeds[@]}"; do train "$s"; done
fi
for s in "${seeds[@]}"; do
  for tta in "--tta" ""; do
    unetlab evaluate --checkpoint "$out/seed$s/checkpoints/best.pt" --data "$out/data/test" \
      --best-threshold $tta --json "$out/eval$s${tta:+_tta}.json"
  done  # and with the cells a membrane gap merges split (seed level chosen inside 00-24)
  unetlab evaluate --checkpoint "$out/seed$s/checkpoints/best.pt" --data "$out/data/test" \
    --best-threshold --tta --watershed-seeds 0.9 --json "$out/eval${s}_tta_seeds.json"
done
