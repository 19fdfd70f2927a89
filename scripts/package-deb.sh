#!/usr/bin/env bash
# Builds the Debian package with the Tauri bundler, offline, from the release build:
# $CARGO_TARGET_DIR/release/bundle/deb/Tokenwise_<version>_amd64.deb, holding the window
# (/usr/bin/tokenwise-desktop, its desktop entry and icons), the CLI (/usr/bin/tokenwise), the
# default model (/usr/share/tokenwise/models), the policy folders
# /etc/tokenwise/policies/{managed,recommended} with a README, and the IT documentation
# (/usr/share/doc/tokenwise). Prints the package's path on the last line.
# Usage: scripts/package-deb.sh   (builds first when the release binaries are missing)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
MODEL=SmolLM2-135M-Instruct.Q4_1.gguf

scripts/fetch-model.sh >&2
if [ ! -x "$TARGET/release/tokenwise-desktop" ] || [ ! -x "$TARGET/release/tokenwise" ]; then
    scripts/build.sh >&2
fi

# The CLI goes in without its symbol table (-18 MB); the bundler copies the window's binary as is.
STAGING="$TARGET/package-staging"
mkdir -p "$STAGING"
strip -o "$STAGING/tokenwise" "$TARGET/release/tokenwise"

# Files beyond the app binary, as the bundler's `linux.deb.files` (package path: source
# path). Given here rather than in tauri.conf.json because the CLI's path depends on
# CARGO_TARGET_DIR.
FILES=$(cat <<JSON
{
  "/usr/bin/tokenwise": "$STAGING/tokenwise",
  "/usr/share/tokenwise/models/$MODEL": "$PWD/models/$MODEL",
  "/etc/tokenwise/policies/README": "$PWD/packaging/policies-README.txt",
  "/etc/tokenwise/policies/managed/README": "$PWD/packaging/policies-README.txt",
  "/etc/tokenwise/policies/recommended/README": "$PWD/packaging/policies-README.txt",
  "/usr/share/doc/tokenwise/it-admin.md": "$PWD/docs/it-admin.md",
  "/usr/share/doc/tokenwise/policy.schema.json": "$PWD/docs/policy.schema.json",
  "/usr/share/doc/tokenwise/examples/10-company.json": "$PWD/docs/examples/10-company.json",
  "/usr/share/doc/tokenwise/examples/tokenwise.mobileconfig": "$PWD/docs/examples/tokenwise.mobileconfig",
  "/usr/share/doc/tokenwise/examples/tokenwise.reg": "$PWD/docs/examples/tokenwise.reg",
  "/usr/share/doc/tokenwise/windows/tokenwise.admx": "$PWD/docs/windows/tokenwise.admx",
  "/usr/share/doc/tokenwise/windows/en-US/tokenwise.adml": "$PWD/docs/windows/en-US/tokenwise.adml"
}
JSON
)
CONFIG="{\"bundle\": {\"linux\": {\"deb\": {\"files\": $FILES}}}}"
rm -rf "$TARGET/release/bundle/deb"
CARGO_TARGET_DIR="$TARGET" ui/node_modules/.bin/tauri bundle --bundles deb --ci --config "$CONFIG" >&2
ls "$TARGET"/release/bundle/deb/*.deb
