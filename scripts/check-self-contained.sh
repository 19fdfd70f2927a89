#!/usr/bin/env bash
# Fails when a tracked file refers to the shared folder that sits beside the checkout on the
# development machines: a fresh clone has nothing beside it, so every test, tool and doc must
# find what it needs inside the repository (the routing dataset is in data/routing/).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "not a git checkout; nothing to check"
    exit 0
fi
# Built from two parts so this script does not match itself.
pattern='\.\./'"shared"
hits=$(git grep -n -I -E "$pattern" -- . || true)
if [ -n "$hits" ]; then
    echo "$hits" >&2
    echo "These tracked files refer to the shared folder beside the checkout, which a fresh" >&2
    echo "clone does not have. Copy what they need into the repository (e.g. data/) and point" >&2
    echo "them there." >&2
    exit 1
fi
echo "ok: no tracked file refers outside the checkout"
