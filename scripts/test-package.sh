#!/usr/bin/env bash
# The package test: builds the .deb (scripts/package-deb.sh), checks what it holds, installs it
# (`dpkg -i` as root or with sudo; otherwise it is unpacked into a temporary root), puts a
# managed policy in place, then uses the installed CLI and the installed window (Xvfb +
# tauri-driver, tests/package/) with no Tokenwise variables set, as a user would, and
# uninstalls it. Prints the package's size.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n-- package: %s\n' "$1"; }
fail() { echo "package test FAILED: $*" >&2; exit 1; }

DEB="$(scripts/package-deb.sh | tail -1)"
[ -f "$DEB" ] || fail "no package was built"

step "contents of $(basename "$DEB")"
CONTENTS="$(dpkg-deb -c "$DEB")"
# dpkg-deb lists paths with or without a leading "./", depending on the tool that built the tar.
for path in usr/bin/tokenwise-desktop usr/bin/tokenwise \
    usr/share/applications/Tokenwise.desktop \
    usr/share/tokenwise/models/SmolLM2-135M-Instruct.Q4_1.gguf \
    etc/tokenwise/policies/managed/README etc/tokenwise/policies/recommended/README \
    usr/share/doc/tokenwise/it-admin.md usr/share/doc/tokenwise/windows/tokenwise.admx; do
    grep -Eq " (\./)?$path\$" <<<"$CONTENTS" || fail "$path is not in the package"
done
grep -q "usr/share/icons/hicolor/.*/apps/tokenwise-desktop.png" <<<"$CONTENTS" \
    || fail "no icon in the package"
dpkg-deb -f "$DEB" Package Version Depends Installed-Size
SIZE_BYTES=$(stat -c %s "$DEB")
echo "package size: $((SIZE_BYTES / 1024 / 1024)) MiB ($SIZE_BYTES bytes); installed: $(dpkg-deb -f "$DEB" Installed-Size) KiB"

SUDO=""
if [ "$(id -u)" -ne 0 ] && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
WORK="$(mktemp -d)"
if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    ROOT=/
    step "install with dpkg -i"
    $SUDO dpkg -i "$DEB"
    uninstall() {
        if dpkg -s tokenwise >/dev/null 2>&1; then $SUDO dpkg -r tokenwise >/dev/null || true; fi
        $SUDO rm -f /etc/tokenwise/policies/managed/50-package-test.json
        rm -rf "$WORK"
    }
else
    ROOT="$WORK/root"
    step "no root: unpack into $ROOT"
    dpkg-deb -x "$DEB" "$ROOT"
    uninstall() { rm -rf "$WORK"; }
fi
trap uninstall EXIT
POLICY_ROOT="${ROOT%/}/etc/tokenwise/policies"
BIN="${ROOT%/}/usr/bin"
POLICY_FILE="$POLICY_ROOT/managed/50-package-test.json"
echo '{"allowed_tiers": ["local", "mid"], "max_request_usd": "0.10"}' | $SUDO tee "$POLICY_FILE" >/dev/null

# As a user would run it: a new home, nothing of ours in the environment, not in the checkout.
as_user() {
    local extra=()
    [ "$ROOT" = / ] || extra=("TOKENWISE_POLICY_DIR=$POLICY_ROOT")
    (cd "$WORK" && env -i HOME="$WORK/home" USER=employee PATH="$BIN:/usr/bin:/bin" \
        "${extra[@]+"${extra[@]}"}" "$@")
}
mkdir -p "$WORK/home"

step "the installed CLI reads the policy folder"
SHOWN="$(as_user tokenwise policy show --json)"
grep -q '"location": "'"$POLICY_FILE"'"' <<<"$SHOWN" || fail "policy show: $SHOWN"
grep -q '"locked": true' <<<"$SHOWN" || fail "policy show: $SHOWN"

step "the installed CLI answers from the installed model"
ANSWER="$(as_user tokenwise ask --local --json "What is the capital of France?")"
grep -q '"status":"complete"\|"status": "complete"' <<<"$ANSWER" || fail "ask: $ANSWER"

step "the installed CLI refuses a tier the policy leaves out"
if REFUSED="$(as_user tokenwise ask --tier frontier --yes "Prove that there are infinitely many primes" 2>&1)"; then
    fail "frontier was not refused: $REFUSED"
fi
grep -q "not allowed by policy" <<<"$REFUSED" || fail "refusal: $REFUSED"

step "the installed window starts, finds its model and shows the policy (Xvfb + tauri-driver)"
TOKENWISE_E2E_INSTALLED="$ROOT" TOKENWISE_E2E_SUITE=tests/package/ \
    TOKENWISE_PACKAGE_POLICY_FILE="$POLICY_FILE" HOME="$WORK/home" scripts/e2e.sh

if [ "$ROOT" = / ]; then
    step "uninstall"
    $SUDO dpkg -r tokenwise
    for path in /usr/bin/tokenwise-desktop /usr/bin/tokenwise /usr/share/tokenwise/models; do
        [ ! -e "$path" ] || fail "$path is still there after dpkg -r"
    done
    [ -f "$POLICY_FILE" ] || fail "dpkg -r removed the administrator's own policy file"
fi
step "package test passed"
