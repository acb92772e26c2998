#!/usr/bin/env bash
# The experiment grid of REPRODUCTION.md, then `alam report` on it. Resumable: a finished run
# is skipped, so an interrupted grid is finished by running this again.
#
#   scripts/reproduce.sh            # all of it on this machine, JOBS shards at once
#   JOBS=16 scripts/reproduce.sh    # on a bigger machine
#   SHARD=3/8 scripts/reproduce.sh  # one shard (e.g. a Slurm array task); no report
#   POPULATION=off JOBS=16 ...      # one run per process slot (see below)
#
# Each sweep trains the 5 seeds of an env × algo × variant as one batched population (`alam
# sweep --population auto`: ~1.3–1.5× faster for these small networks, BENCHMARKS.md), and its
# shards split those groups. A sweep here has 2–5 groups, so with more JOBS than that, split
# runs instead: POPULATION=off (every run its own agent) or a number (populations of at most
# that many seeds).
#
# Runs are shortened from the paper's (see REPRODUCTION.md): 2×64 networks, batch 64,
# 15k steps on the double integrator and car-following, 25k on point-goal, 5 seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
ALAM="${ALAM:-target/release/alam}"
RUNS="${RUNS:-runs/repro}"
REPORT="${REPORT:-reports}"
JOBS="${JOBS:-$(nproc)}"
POPULATION="${POPULATION:-auto}"
[ -x "$ALAM" ] || cargo build --release --bin alam
COMMON=(--seeds 0,1,2,3,4 --population "$POPULATION" --out "$RUNS" --set hidden=64 --set batch_size=64 --set probe_every=1000 --set eval_episodes=10)

# One env's three sweeps: every algorithm; ALaM's ρ (0 = FAC's policy loss with ALaM's
# regression); FAC and ALaM with a multiplier stressed 30× faster and updated 20× less often.
# Shard i of n takes shard (i + k) mod n of the k-th sweep, so that the first group of every
# sweep does not always land on shard 0 (every shard of every sweep is still run once).
env_grid() {
  local env=$1 steps=$2 i=$3 n=$4 k=$5
  local s=(--envs "$env" --steps "$steps" --set eval_every=$((steps / 4)) "${COMMON[@]}")
  "$ALAM" sweep --algos sac,lag,pid-lag,fac,alam --shard "$(((i + k) % n))/$n" "${s[@]}"
  "$ALAM" sweep --algos alam --variant rho0:rho=0 --variant rho0.1:rho=0.1 --variant rho10:rho=10 \
    --shard "$(((i + k + 1) % n))/$n" "${s[@]}"
  "$ALAM" sweep --algos fac,alam --variant stress:multiplier_lr=0.009,multiplier_every=20 \
    --shard "$(((i + k + 2) % n))/$n" "${s[@]}"
}

shard() {
  env_grid double-integrator 15000 "$1" "$2" 0
  env_grid car-following 15000 "$1" "$2" 3
  env_grid point-goal 25000 "$1" "$2" 6
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
