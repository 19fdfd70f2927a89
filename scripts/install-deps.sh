#!/usr/bin/env bash
# Installs what Tokenwise needs on a fresh Debian 12 / Ubuntu machine, skipping what is there:
# the WebKitGTK/GTK build libraries (apt), Node packages for the UI (npm ci), and with `test`
# also Xvfb, D-Bus, the dunst notification daemon, GNOME Keyring, WebKitWebDriver (apt),
# tauri-driver (cargo install) and a LiteLLM proxy in the virtualenv target/litellm-venv (pip) for
# tokenwise-cloud's tests (they read TOKENWISE_LITELLM_BIN, default
# target/litellm-venv/bin/litellm).
# Usage: scripts/install-deps.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-run}"

need_cmd() {
    command -v "$1" >/dev/null 2>&1 || { echo "install-deps: '$1' is missing: $2" >&2; exit 1; }
}
need_cmd cargo "install the Rust toolchain (https://rustup.rs) and run this again"

APT_PACKAGES=(pkg-config build-essential libwebkit2gtk-4.1-dev libgtk-3-dev
    libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libssl-dev python3 python3-pip)
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)
if [ "$MODE" = test ]; then
    # dunst: a real notification daemon for tokenwise-notify's delivery test.
    APT_PACKAGES+=(xvfb xauth dbus dbus-x11 dunst webkit2gtk-driver xdotool imagemagick)
    # xclip sets the clipboard (text, image, file list) in the quick-summarize tests; trayer
    # gives Xvfb a system tray so the e2e test can open the tray menu; xprop (x11-utils)
    # tells that menu's window apart.
    APT_PACKAGES+=(xclip trayer x11-utils)
    # gnome-keyring: a real Secret Service for tokenwise-secrets' keyring test (it starts the
    # daemon itself on the private D-Bus session scripts/test.sh opens).
    APT_PACKAGES+=(gnome-keyring)
    # python3-venv: the virtualenv for the LiteLLM proxy (Debian ships venv separately).
    APT_PACKAGES+=(python3-venv)
    # postgresql: a real PostgreSQL for tokenwise-server's tests (each test creates its own
    # cluster in a temporary folder, as the unprivileged `nobody` when run as root).
    APT_PACKAGES+=(postgresql)
    # openssl: makes the certificates of tokenwise-server's built-in HTTPS test.
    APT_PACKAGES+=(openssl)
fi

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
# python3/pip may come from elsewhere (pyenv): only ask apt when the commands are absent.
if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
    filtered=()
    for package in "${missing[@]}"; do
        case "$package" in python3|python3-pip) ;; *) filtered+=("$package") ;; esac
    done
    missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "install-deps: apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The UI's packages, exactly as locked.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    echo "install-deps: npm ci (ui/)"
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$MODE" = test ] && ! command -v tauri-driver >/dev/null 2>&1; then
    echo "install-deps: cargo install tauri-driver"
    cargo install tauri-driver --locked --quiet
fi

# A real LiteLLM proxy for tokenwise-cloud's integration tests, pinned to the version they were
# verified with. Always under the repository's target/ (not CARGO_TARGET_DIR) so the tests find
# it at a stable path; TOKENWISE_LITELLM_BIN points elsewhere if wanted.
LITELLM_VERSION=1.108.7
LITELLM_VENV=target/litellm-venv
if [ "$MODE" = test ] && ! "$LITELLM_VENV/bin/python" -m pip show litellm 2>/dev/null \
        | grep -qx "Version: $LITELLM_VERSION"; then
    echo "install-deps: pip install litellm[proxy]==$LITELLM_VERSION ($LITELLM_VENV)"
    python3 -m venv "$LITELLM_VENV"
    "$LITELLM_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "litellm[proxy]==$LITELLM_VERSION"
fi
