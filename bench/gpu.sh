#!/usr/bin/env bash
# On a GPU machine: the same SAC-ALaM update on burn's wgpu device (native Vulkan) and on the
# PyTorch peer (CUDA), in one run, plus both on that machine's CPU for scale.
# Needs an `alam` built with `--features vulkan` (ALAM=path, default target/release/alam)
# and a Vulkan loader (libvulkan1). Writes JSON lines to $OUT (default bench/results).
set -uo pipefail
cd "$(dirname "$0")/.."
ALAM="${ALAM:-target/release/alam}"
OUT="${OUT:-bench/results}"
N="${1:-300}"
mkdir -p "$OUT"
run() { echo "== $*" >&2; "$@" 2>>"$OUT/gpu-stderr.log" | grep -E '^\{' | tail -n 1 | tee -a "$OUT/gpu.jsonl"; }
run "$ALAM" bench --device vulkan --updates "$N" --env-steps 1000
run python3 bench/torch_peer.py --device cuda --updates "$N"
run "$ALAM" bench --device vulkan --updates "$N" --env-steps 1000 --batch 4096
run python3 bench/torch_peer.py --device cuda --updates "$N" --batch 4096
run "$ALAM" bench --device cpu --updates 100 --env-steps 1000
run python3 bench/torch_peer.py --device cpu --updates 100
