#!/usr/bin/env bash
# Fails when a tracked file refers to a folder beside the checkout (`../shared` and the like):
# a fresh clone has nothing beside it, so every test, tool and doc must find what it needs
# inside the repository (the routing dataset is in data/routing/).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "not a git checkout; nothing to check"
    exit 0
fi
# This script names the pattern it looks for; it is the one file allowed to.
pattern='\.\./shared'
hits=$(git grep -n -I -E "$pattern" -- . ':(exclude)scripts/check-self-contained.sh' || true)
if [ -n "$hits" ]; then
    echo "$hits" >&2
    echo "These tracked files refer to ../shared, which a fresh clone does not have." >&2
    echo "Copy what they need into the repository (e.g. data/) and point them there." >&2
    exit 1
fi
echo "ok: no tracked file refers to ../shared"
