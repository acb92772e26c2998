#!/usr/bin/env bash
# On a GPU machine, in one run: burn's wgpu device natively on Vulkan (kernel fusion off and on;
# one host read per update, K = 1, and per 32 updates, K = 32), burn's CPU device, and the
# PyTorch peer on CUDA and on the CPU, each at the page's preset (2×64, batch 64) and the
# paper's shape (2×256, batch 256). Writes JSON lines to $OUT/gpu.jsonl (default bench/results).
#
# Needs two `alam` builds: `cargo build --release --features vulkan` (ALAM_VK) and
# `--features vulkan,fusion` (ALAM_VK_FUSION), and a Vulkan loader: the system's libvulkan.so.1,
# or one in $VK_LIB_DIR (Debian's libvulkan1, extracted). The NVIDIA driver's ICD is found by
# the loader, or through VK_ICD_FILENAMES.
set -uo pipefail
cd "$(dirname "$0")/.."
ALAM_VK="${ALAM_VK:-target/release/alam}"
ALAM_VK_FUSION="${ALAM_VK_FUSION:-$ALAM_VK}"
OUT="${OUT:-bench/results}"
N="${N:-300}"
mkdir -p "$OUT"
if [ -n "${VK_LIB_DIR:-}" ]; then export LD_LIBRARY_PATH="$VK_LIB_DIR:${LD_LIBRARY_PATH:-}"; fi
# NVIDIA's Vulkan driver, headless (the helper says why).
. bench/nvidia_vulkan.sh
use_nvidia_vulkan "$OUT"
# The GPU, never a software adapter the loader may also offer (lavapipe).
export CUBECL_WGPU_DEFAULT_DEVICE="${CUBECL_WGPU_DEFAULT_DEVICE:-DiscreteGpu(0)}"
echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-unset} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}" >&2
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader >&2 || true

run() { echo "== $*" >&2; timeout 120 "$@" 2>>"$OUT/gpu-stderr.log" | grep -E '^\{' | tail -n 1 | tee -a "$OUT/gpu.jsonl"; }
for shape in "64 64" "256 256"; do
  set -- $shape
  h=$1 b=$2
  for k in 1 32; do
    run "$ALAM_VK" bench --device vulkan --hidden "$h" --batch "$b" --sync-every "$k" --updates "$N" --env-steps 1000
    run "$ALAM_VK_FUSION" bench --device vulkan --hidden "$h" --batch "$b" --sync-every "$k" --updates "$N" --env-steps 1000
    run "$ALAM_VK" bench --device cpu --hidden "$h" --batch "$b" --sync-every "$k" --updates 200 --env-steps 1000
  done
  run python3 bench/torch_peer.py --device cuda --hidden "$h" --batch "$b" --updates "$N"
  run python3 bench/torch_peer.py --device cpu --hidden "$h" --batch "$b" --updates 100
done
