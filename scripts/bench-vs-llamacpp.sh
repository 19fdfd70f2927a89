#!/usr/bin/env bash
# Side by side, in one run, on the same GGUF file, prompts, system prompt, thread count and
# greedy settings: `tokenwise bench local` against llama.cpp (llama-cpp-python 0.3.36, compiled
# from source once into target/llamacpp-venv at the AVX2 level of Tokenwise's build: ~25 min
# on 2 cores). Prints a table with ratios.
# Not part of the test command. Usage: scripts/bench-vs-llamacpp.sh [RUNS] [TOKENS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
TOKENS="${2:-64}"
TARGET="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
VENV="$TARGET/llamacpp-venv"
MODEL="$PWD/models/SmolLM2-135M-Instruct.Q4_1.gguf"
THREADS="$(nproc)"

scripts/fetch-model.sh >&2
[ -x "$TARGET/release/tokenwise" ] || cargo build --release --workspace --all-features --bin tokenwise >&2
if ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
    echo "building llama-cpp-python 0.3.36 into $VENV (once; ~25 min on 2 cores)…" >&2
    python3 -m venv "$VENV"
    # The same vector level as Tokenwise's build (x86-64-v3: AVX2, FMA, F16C), not -march=native:
    # a fair comparison, and native builds on CPUs that report AMX crashed in generation here.
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
        "$VENV/bin/pip" install --quiet --no-cache-dir llama-cpp-python==0.3.36 >&2
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export TOKENWISE_DATA_DIR="$WORK/data" TOKENWISE_MODELS_DIR="$PWD/models"
# Measure what a person runs: a developer shell's RUST_BACKTRACE makes every error mistral.rs
# builds while loading capture a backtrace and symbolize the binary (~45 MiB more resident).
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
TW="$TARGET/release/tokenwise"
"$TW" bench local --prompts-json > "$WORK/cases.json"

run_tokenwise() { # $1: label, rest: extra flags
    local label="$1"; shift
    echo "tokenwise ($label)…" >&2
    RAYON_NUM_THREADS="$THREADS" "$TW" bench local --json --runs "$RUNS" --tokens "$TOKENS" "$@" \
        > "$WORK/tokenwise-$label.json"
}
# The Q8_0 copy is made once, at the first start (the whole model converted in memory); make
# it here so the table measures what every later start does.
"$TW" bench local --runs 1 --tokens 1 --cases short > /dev/null
run_tokenwise fast
run_tokenwise original --original-weights
echo "llama.cpp…" >&2
"$VENV/bin/python" tools/bench_llamacpp.py "$MODEL" "$WORK/cases.json" "$RUNS" "$TOKENS" "$THREADS" \
    > "$WORK/llamacpp.json"

python3 tools/bench_table.py "$WORK/llamacpp.json" "$WORK/tokenwise-fast.json" \
    "$WORK/tokenwise-original.json"
