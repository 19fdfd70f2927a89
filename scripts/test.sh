#!/usr/bin/env bash
# README command 2: set up everything that is missing, then run every test: formatting, lints,
# Rust unit and integration tests (real SQLite, the real SmolLM2 model through mistral.rs),
# the UI tests (Vitest), the end-to-end test of the real window (Xvfb + tauri-driver), and the
# Debian package installed and used (scripts/test-package.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "self-contained: no tracked file refers outside the checkout"
scripts/check-self-contained.sh

step "dependencies"
scripts/install-deps.sh test
scripts/fetch-model.sh

step "format"
cargo fmt --all --check

step "UI type check and build (embedded into the app)"
(cd ui && npm run --silent build)

step "release build"
cargo build --release --workspace --all-targets --all-features

step "lints (clippy, warnings are errors)"
cargo clippy --release --workspace --all-targets --all-features -- -D warnings

step "Rust tests"
export TOKENWISE_MODELS_DIR="$PWD/models"
# Inside a private X display and D-Bus session: tokenwise-notify's test starts a real
# notification daemon (dunst) there. Both wrappers pass on cargo's exit status.
xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
    dbus-run-session -- cargo test --release --workspace --all-features

step "the prompt kernels again without AVX-VNNI (the AVX2 path every other CPU takes)"
# The Q8_0 prompt kernel picks AVX-VNNI at run time where the CPU has it; this runs the
# kernel tests on the other path too (no rebuild: the same test binaries).
TOKENWISE_NO_VNNI=1 cargo test --release --workspace --all-features \
    --test dot_kernels --test prompt_matmul --test prompt_chunks

step "generated TypeScript types match the Rust types"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    stale=$(git status --porcelain -- ui/src/bindings)
    if [ -n "$stale" ]; then
        echo "$stale" >&2
        echo "ui/src/bindings is stale: commit the files cargo test regenerated" >&2
        exit 1
    fi
fi

step "UI tests"
(cd ui && npm test --silent)

step "end-to-end: the real window under Xvfb"
scripts/e2e.sh

step "the .deb: build, install, use as a user with a managed policy, uninstall"
scripts/test-package.sh

step "all tests passed"
