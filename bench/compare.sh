#!/usr/bin/env bash
# Same machine, same SAC-ALaM update: the Rust/burn bench against the PyTorch peer.
# Usage: bench/compare.sh [UPDATES]   (default 300)
# Writes bench/results/<date>-<hostname>.json and prints a one-line summary.
# Run it on an otherwise idle machine: with the cores busy (e.g. a cargo build running),
# PyTorch's CPU threads spin against each other and its number collapses (~10x measured).
set -euo pipefail

N="${1:-300}"
PYTHON="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
    echo "error: PyTorch is not installed for $PYTHON — run: pip install torch" >&2
    exit 1
fi

# Keep only the last line that looks like a JSON object (in case anything else is printed).
last_json() { grep -E '^\s*\{' | tail -n 1; }

echo "running burn bench ($N updates)..." >&2
BURN_JSON="$(cargo run --release --quiet --bin alam -- bench --updates "$N" | last_json)"
echo "running PyTorch peer ($N updates)..." >&2
TORCH_JSON="$("$PYTHON" bench/torch_peer.py --updates "$N" | last_json)"
echo "running PyTorch peer on one thread ($N updates; burn's CPU device is single-threaded)..." >&2
TORCH1_JSON="$("$PYTHON" bench/torch_peer.py --updates "$N" --threads 1 | last_json)"

mkdir -p bench/results
OUT="bench/results/$(date +%Y-%m-%d)-$(hostname).json"

BURN_JSON="$BURN_JSON" TORCH_JSON="$TORCH_JSON" TORCH1_JSON="$TORCH1_JSON" OUT="$OUT" "$PYTHON" - <<'PY'
import json, os, sys
try:
    burn = json.loads(os.environ["BURN_JSON"])
except Exception as e:
    sys.exit(f"error: the Rust bench did not print a JSON object ({e}): {os.environ['BURN_JSON']!r}")
try:
    torch_ = json.loads(os.environ["TORCH_JSON"])
except Exception as e:
    sys.exit(f"error: the PyTorch peer did not print a JSON object ({e}): {os.environ['TORCH_JSON']!r}")
torch1 = json.loads(os.environ["TORCH1_JSON"])
x = float(burn["sac_alam_updates_per_s"])
y = float(torch_["sac_alam_updates_per_s"])
r = x / y
with open(os.environ["OUT"], "w") as f:
    y1 = float(torch1["sac_alam_updates_per_s"])
    json.dump({"burn": burn, "pytorch": torch_, "pytorch_1_thread": torch1,
               "ratio_burn_over_pytorch": r, "ratio_burn_over_pytorch_1_thread": x / y1}, f, indent=2)
    f.write("\n")
machine = burn.get("machine", "unknown")
y1 = float(torch1["sac_alam_updates_per_s"])
print(f"burn {x:.1f} updates/s, PyTorch {y:.1f} updates/s, ratio X/Y = {r:.3f}; "
      f"PyTorch 1 thread {y1:.1f}, ratio {x / y1:.3f} (machine: {machine})")
print(f"saved {os.environ['OUT']}", file=sys.stderr)
PY
