#!/usr/bin/env bash
# README command 1: set up everything that is missing, fetch the default model, build, and open
# the Tokenwise window.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh run
scripts/fetch-model.sh
scripts/build.sh
export TOKENWISE_MODELS_DIR="${TOKENWISE_MODELS_DIR:-$PWD/models}"
exec "${CARGO_TARGET_DIR:-target}/release/tokenwise-desktop"
