#!/usr/bin/env bash
# The study of issue 18 / REPRODUCTION.md: can the methods be told apart, with enough seeds?
# One command, resumable (a finished run is skipped; an interrupted one resumes from its
# checkpoint), then `alam report` with 95% intervals and a test per pairwise claim.
#
#   scripts/study.sh                      # the whole grid, JOBS shards at once (nproc)
#   JOBS=16 scripts/study.sh              # on a bigger machine
#   SHARD=3/16 scripts/study.sh           # one shard (a Slurm array task); no report
#   GRID=pilot scripts/study.sh           # the pilot: point-goal, the four multiplier cells
#   GRID=threshold scripts/study.sh       # the threshold study (issue 18 item 4)
#   GRID=confirm scripts/study.sh         # the confirmatory run of point-goal's ρ = 10, seeds 8–15
#
# The grid (GRID=full): 8 seeds (0–7) per cell, 2×64 networks, batch 64 (the page's sizes).
#   point-goal 100k steps, car-following 60k, double-integrator 30k (calibration, C3);
#   cells: SAC, SAC-Lag, PID-Lag, FAC (its authors' delay, every 10 updates: the preset),
#   FAC every update, ALaM (method of multipliers: the preset), ALaM re-anchored (the crate's
#   step before the anchor: alam_anchor=false, every update, lr 3e-4 — the ablation);
#   ALaM's ρ ∈ {0.3, 1, 3, 10} and dual period m ∈ {1, 10, 100} on every env.
# The threshold study (GRID=threshold): ALaM on point-goal (50k steps, its preset length) and
#   car-following (40k), 8 seeds, d ∈ {0, 0.1, 0.25, 1} with the discounted cost critic (the
#   preset's d as the plain group), and the probability-form cost critic
#   (`cost_critic=probability`) at d = 0.1 and 0.25.
# The confirmatory run (GRID=confirm): point-goal, 100k steps, fresh seeds 8–15: ALaM, ALaM ρ = 10,
#   and FAC, PID-Lag and SAC-Lag under the variant name rho10 (they do not read ρ; the name pairs
#   them with ALaM's ρ = 10 in `alam report`). Its hypotheses are in REPRODUCTION.md.
# The pilot (GRID=pilot): point-goal only, 30k steps, ALaM, ALaM re-anchored, FAC, FAC every
# update, 8 seeds — what this 2-core machine could run in one session (REPRODUCTION.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ALAM="${ALAM:-target/release/alam}"
GRID="${GRID:-full}"
RUNS="${RUNS:-runs/study-$GRID}"
REPORT="${REPORT:-reports/study-$GRID}"
JOBS="${JOBS:-$(nproc)}"
SEEDS_DEFAULT=0,1,2,3,4,5,6,7
[ "$GRID" = confirm ] && SEEDS_DEFAULT=8,9,10,11,12,13,14,15
SEEDS="${SEEDS:-$SEEDS_DEFAULT}"
[ -x "$ALAM" ] || cargo build --release --bin alam
COMMON=(--seeds "$SEEDS" --out "$RUNS" --set hidden=64 --set batch_size=64 --set probe_every=1000
  --set eval_episodes=10)
REANCHORED="reanchored:alam_anchor=false,multiplier_every=1,multiplier_lr=0.0003"

# The sweeps of one env, shard i of n; sweep k starts at shard (i + k) mod n so that the first
# group of every sweep does not always land on shard 0.
env_grid() {
  local env=$1 steps=$2 i=$3 n=$4 k=$5 cells=$6
  local s=(--envs "$env" --steps "$steps" --set eval_every=$((steps / 10)) "${COMMON[@]}")
  local algos=fac,alam
  [ "$cells" = pilot ] || algos=sac,lag,pid-lag,fac,alam
  "$ALAM" sweep --algos "$algos" --shard "$(((i + k) % n))/$n" "${s[@]}"
  "$ALAM" sweep --algos fac --variant every1:multiplier_every=1 --shard "$(((i + k + 1) % n))/$n" "${s[@]}"
  "$ALAM" sweep --algos alam --variant "$REANCHORED" --shard "$(((i + k + 2) % n))/$n" "${s[@]}"
  if [ "$cells" = all ]; then
    "$ALAM" sweep --algos alam --variant rho0_3:rho=0.3 --variant rho3:rho=3 --variant rho10:rho=10 \
      --variant m1:multiplier_every=1 --variant m10:multiplier_every=10 --shard "$(((i + k + 3) % n))/$n" "${s[@]}"
  fi
}

# The env's preset threshold (d = 1 on point-goal, 0 elsewhere) runs as the plain group, the
# reference `alam report` tests every other threshold against.
threshold_grid() {
  local env=$1 steps=$2 i=$3 n=$4 preset=$5
  local s=(--algos alam --envs "$env" --steps "$steps" --set eval_every=$((steps / 10)) "${COMMON[@]}" --shard "$i/$n")
  local variants=()
  for v in d0:cost_threshold=0 d0_1:cost_threshold=0.1 d0_25:cost_threshold=0.25 d1:cost_threshold=1 \
    p0_1:cost_critic=probability,cost_threshold=0.1 p0_25:cost_critic=probability,cost_threshold=0.25; do
    [ "${v%%:*}" = "$preset" ] || variants+=(--variant "$v")
  done
  "$ALAM" sweep "${s[@]}"
  "$ALAM" sweep "${s[@]}" "${variants[@]}"
}

shard() {
  if [ "$GRID" = confirm ]; then
    local s=(--envs point-goal --steps 100000 --set eval_every=10000 "${COMMON[@]}" --shard "$1/$2")
    "$ALAM" sweep --algos alam "${s[@]}"
    "$ALAM" sweep --algos alam,fac,pid-lag,lag --variant rho10:rho=10 "${s[@]}"
    return
  fi
  if [ "$GRID" = threshold ]; then
    threshold_grid point-goal 50000 "$1" "$2" d1
    threshold_grid car-following 40000 "$1" "$2" d0
    return
  fi
  if [ "$GRID" = pilot ]; then
    env_grid point-goal 30000 "$1" "$2" 0 pilot
    return
  fi
  # The cheapest env first: a partial grid then still has the calibration study (C3).
  env_grid double-integrator 30000 "$1" "$2" 8 all
  env_grid point-goal 100000 "$1" "$2" 0 all
  env_grid car-following 60000 "$1" "$2" 4 all
}

if [ -n "${SHARD:-}" ]; then
  shard "${SHARD%/*}" "${SHARD#*/}"
  exit 0
fi
mkdir -p "$RUNS"
for i in $(seq 0 $((JOBS - 1))); do
  shard "$i" "$JOBS" > "$RUNS/shard-$i.log" 2>&1 &
done
wait
"$ALAM" report --runs "$RUNS" --out "$REPORT"
