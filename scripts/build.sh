#!/usr/bin/env bash
# Builds the UI (ui/dist, embedded into the app) and the release binaries:
# target/release/tokenwise-desktop (the window) and target/release/tokenwise (the CLI).
# TOKENWISE_PORTABLE=1 builds for any x86-64 CPU (no AVX2; local answers 4-9x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${TOKENWISE_PORTABLE:-0}" = 1 ]; then
    export RUSTFLAGS="-C target-cpu=x86-64"
fi
(cd ui && npm run --silent build)
cargo build --release --workspace --bins
