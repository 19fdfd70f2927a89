#!/usr/bin/env bash
# Runs the end-to-end tests against the built app: a private Xvfb display and D-Bus session,
# tauri-driver on 127.0.0.1, a fresh data folder. Screenshots land in target/e2e/.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
# TOKENWISE_E2E_INSTALLED=ROOT tests the installed package under ROOT (`/` after `dpkg -i`)
# instead of the build: its binaries, the model it installed, the policy folder under
# ROOT/etc; TOKENWISE_E2E_SUITE picks the test folder (scripts/test-package.sh).
INSTALLED="${TOKENWISE_E2E_INSTALLED:-}"
SUITE="${TOKENWISE_E2E_SUITE:-tests/e2e/}"
if [ -n "$INSTALLED" ]; then
    export TOKENWISE_APP_BINARY="$INSTALLED/usr/bin/tokenwise-desktop"
    export TOKENWISE_CLI_BINARY="$INSTALLED/usr/bin/tokenwise"
else
    export TOKENWISE_APP_BINARY="$(realpath "$TARGET/release/tokenwise-desktop")"
    export TOKENWISE_CLI_BINARY="$(realpath "$TARGET/release/tokenwise")"
fi
# The company quota server of the company test.
export TOKENWISE_SERVER_BINARY="$(realpath "$TARGET/release/tokenwise-server")"
# The app charges requests to $USER when no budget file names the user.
export USER="${USER:-$(id -un)}"
if [ -n "$INSTALLED" ]; then
    unset TOKENWISE_MODELS_DIR
else
    export TOKENWISE_MODELS_DIR="${TOKENWISE_MODELS_DIR:-$PWD/models}"
fi
export TOKENWISE_E2E_ARTIFACTS="$PWD/target/e2e"
export TOKENWISE_DATA_DIR="$(mktemp -d)"
export KEYRING_DIR="$(mktemp -d)"
# The app's home folder (tauri-driver starts the app with it): "Start at login" writes its
# autostart entry under it, not under the home of whoever runs the tests.
export TOKENWISE_E2E_HOME="$(mktemp -d)"
# The organization's policy folder the policy test writes while the app runs; the installed
# package reads its own (/etc/tokenwise/policies, or under ROOT when only unpacked).
TEMP_POLICY_DIR=""
if [ "$INSTALLED" = / ]; then
    unset TOKENWISE_POLICY_DIR
elif [ -n "$INSTALLED" ]; then
    export TOKENWISE_POLICY_DIR="$INSTALLED/etc/tokenwise/policies"
else
    TEMP_POLICY_DIR="$(mktemp -d)"
    export TOKENWISE_POLICY_DIR="$TEMP_POLICY_DIR"
fi
export TEMP_POLICY_DIR SUITE
# The model catalog the app reads: a copy of the built-in one, which the Models test extends
# with a mirror served by a local HTTP server.
CATALOG_DIR="$(mktemp -d)"
export TOKENWISE_MODEL_CATALOG="$CATALOG_DIR/catalog.toml"
cp models/catalog.toml "$TOKENWISE_MODEL_CATALOG"
export CATALOG_DIR
# The mock LiteLLM gateway of the cloud test: started by tokenwise-testkit's launcher, which
# runs the LiteLLM proxy that scripts/install-deps.sh test installs.
export TOKENWISE_TEST_GATEWAY_BIN="$(realpath "$TARGET/release/tokenwise-test-gateway")"
export TOKENWISE_LITELLM_BIN="${TOKENWISE_LITELLM_BIN:-$PWD/target/litellm-venv/bin/litellm}"
mkdir -p "$TOKENWISE_E2E_ARTIFACTS"
PORT="${TOKENWISE_WEBDRIVER_PORT:-4444}"
export TOKENWISE_WEBDRIVER_URL="http://127.0.0.1:$PORT"
# WebKitGTK in a VM without GPU: software rendering, no sandbox helper processes to wait on.
export WEBKIT_DISABLE_COMPOSITING_MODE=1
export WEBKIT_DISABLE_DMABUF_RENDERER=1
export LIBGL_ALWAYS_SOFTWARE=1
export NO_AT_BRIDGE=1

exec xvfb-run --auto-servernum --server-args="-screen 0 1280x800x24" \
    dbus-run-session -- bash -c '
        # A real Secret Service for the settings screen: gnome-keyring-daemon with its files in
        # a temporary folder of their own and the login keyring unlocked with an empty password.
        echo | HOME="$KEYRING_DIR" XDG_DATA_HOME="$KEYRING_DIR/data" XDG_RUNTIME_DIR="$KEYRING_DIR" \
            gnome-keyring-daemon --replace --unlock --components=secrets --daemonize > /dev/null
        for _ in $(seq 100); do
            dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
                | grep -q "boolean true" && break
            sleep 0.1
        done
        # A system tray (XEmbed) for the tray icon: the tray test opens its menu.
        trayer --edge top --align right --widthtype request --height 24 --transparent false \
            --SetDockType false --SetPartialStrut false > /dev/null 2>&1 &
        TRAYER_PID=$!
        HOME="$TOKENWISE_E2E_HOME" tauri-driver --port "'"$PORT"'" --native-port "'"$((PORT + 1))"'" > "$TOKENWISE_E2E_ARTIFACTS/tauri-driver.log" 2>&1 &
        DRIVER_PID=$!
        trap "kill $DRIVER_PID $TRAYER_PID 2>/dev/null || true; rm -rf \"$TOKENWISE_DATA_DIR\" \"$KEYRING_DIR\" \"$CATALOG_DIR\" \"$TOKENWISE_E2E_HOME\" ${TEMP_POLICY_DIR:+\"$TEMP_POLICY_DIR\"}" EXIT
        node --test --test-concurrency=1 --test-reporter=spec "$SUITE"
    '
