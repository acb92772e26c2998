#!/usr/bin/env bash
# Every test: unit, loss-by-hand, checkpoint, CLI and learning tests (release mode: burn is far
# too slow unoptimised for the learning tests), then the page in a real headless Chromium.
# Installs what is missing first (scripts/setup.sh; quiet when everything is there).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo test --release "$@"
# The page: trunk's build reuses the wasm32 build that .ci/run checks (same profile/features).
trunk build --quiet
# The page's wasm under Node: WebGPU through Dawn (SwiftShader) against its CPU path (~1 min).
node --test tests/dawn/
# Every browser test runs twice, on the CPU and on a WebGPU adapter (SwiftShader); one file at a
# time, since two Chromiums emulating a GPU on 2 cores would only slow each other down.
node --test --test-concurrency=1 tests/browser/
