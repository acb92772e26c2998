#!/usr/bin/env bash
# The page's pretrained demo (www/pretrained/point-goal-alam.alam): point-goal × SAC-ALaM with
# the page's default settings (2×64 networks, batch 64, every other field the core's default),
# seed 0, trained natively on the CPU, then evaluated. A rerun with the same build gives the same
# metrics and the same evaluation (20 episodes: return 72, no violating step, here); the file's
# bytes may differ in burn's record metadata. Takes about a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-20000}
OUT=${OUT:-runs/pretrain}
cargo build --release --quiet
./target/release/alam train --env point-goal --algo alam --seed 0 --steps "$STEPS" \
  --set hidden=64 --set batch_size=64 --out "$OUT" --force
./target/release/alam eval --weights "$OUT/weights.alam" --episodes 20
mkdir -p www/pretrained
cp "$OUT/weights.alam" www/pretrained/point-goal-alam.alam
ls -l www/pretrained/point-goal-alam.alam
