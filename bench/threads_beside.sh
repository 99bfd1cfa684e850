#!/bin/bash
# unetlab predict on the CPU, idle and beside one busy loop, OMP_NUM_THREADS=2 and 1 alternated
# (session 53). Usage: bench/threads_beside.sh CHECKPOINT INPUT_FOLDER [SCRATCH]
# Prints the wall seconds of each command and predict's own seconds ("failed in X s").
set -u
checkpoint=$1 input=$2 scratch=${3:-/tmp/threads_beside}
mkdir -p "$scratch"
run() {  # $1 threads, $2 label
  rm -rf "$scratch/out"
  local t0 t1
  t0=$(date +%s.%N)
  OMP_NUM_THREADS=$1 python3 -m unetlab predict --checkpoint "$checkpoint" --input "$input" \
    --output "$scratch/out" --device cpu --no-progress >"$scratch/$2_$1.log" 2>&1
  t1=$(date +%s.%N)
  echo "$2 threads=$1 wall $(echo "$t1 - $t0" | bc) s, predict's own:" \
    "$(grep -o 'failed in [0-9.]* s' "$scratch/$2_$1.log") load=$(cut -d' ' -f1 /proc/loadavg)"
}
for rep in 1 2 3; do
  run 2 idle; run 1 idle
  python3 -c "while True: pass" & busy=$!
  sleep 1
  run 2 busy; run 1 busy
  kill $busy; wait $busy 2>/dev/null
done
