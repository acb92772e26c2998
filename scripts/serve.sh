#!/usr/bin/env bash
# The README's first command: set up whatever is missing, then serve the trainer page at
# http://127.0.0.1:8080 (PORT overrides). The first build compiles burn for wasm (minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec trunk serve --port "${PORT:-8080}" "$@"
