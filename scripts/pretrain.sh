#!/usr/bin/env bash
# The page's pretrained demo (www/pretrained/point-goal-alam.alam): point-goal × SAC-ALaM with
# the page's default settings (2×64 networks, batch 64, every other field the core's default),
# trained natively on the CPU for 20 000 steps, then evaluated. The file carries the run's
# records (`alam embed-history`: metrics.jsonl, bounded as the page's saves are, probe grids
# dropped), so a first visit draws the demo's training curves at once.
#
# Seed 4 is a selected seed, said as such: at 20 000 steps the final policy's safety varies a lot
# between seeds. With ALaM's anchored multiplier (docs/method.md §3c), seeds 0–5 were trained as
# one population (`alam sweep --envs point-goal --algos alam --seeds 0,1,2,3,4,5 --steps 20000
# --set hidden=64 --set batch_size=64`) and each scored over 100 deterministic episodes on a
# selection seed (`alam eval --episodes 100 --seed 777`), which is not the seed the page watches:
# 1.87, 3.69, 5.05, 1.52, 0.27, 1.09 violating steps per episode (returns 114, 116, 108, 77, 102,
# 97). Seed 4, the safest, trained alone by this script, then gives on the page's watched seed
# (`alam eval`'s default, 12345) return 103 and 0.46 violating steps per episode over 100 episodes
# (measured 2026-12-06 with this build). A rerun with the same build gives the same metrics and
# evaluation; the file's bytes may differ in burn's record metadata and the records' timing
# fields. Takes about 30 s on 2 idle cores.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-20000}
SEED=${SEED:-4}
OUT=${OUT:-runs/pretrain}
cargo build --release --quiet
./target/release/alam train --env point-goal --algo alam --seed "$SEED" --steps "$STEPS" \
  --set hidden=64 --set batch_size=64 --out "$OUT" --force
mkdir -p www/pretrained
./target/release/alam embed-history --run "$OUT" --out www/pretrained/point-goal-alam.alam
# The same run's whole training state (replay, optimiser moments, RNGs), with the same history:
# "Train on" fetches it only when asked, and goes on exactly where the run stopped.
./target/release/alam embed-history --run "$OUT" --full --out www/pretrained/point-goal-alam-full.alam
# The page watches on `alam eval`'s default seed: these are the first episodes a visitor sees.
./target/release/alam eval --weights www/pretrained/point-goal-alam.alam --episodes 100
ls -l www/pretrained/point-goal-alam.alam www/pretrained/point-goal-alam-full.alam
