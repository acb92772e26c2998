#!/usr/bin/env bash
# Every test: unit, loss, checkpoint, CLI and learning tests, in release mode (burn is far too
# slow unoptimised for the learning tests).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release "$@"
