#!/usr/bin/env bash
# Lints: formatting and clippy with warnings as errors, in the release profile the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --release --workspace --all-targets --all-features -- -D warnings
