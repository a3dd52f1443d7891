#!/usr/bin/env bash
# Installs what building and testing Coachboard needs, only what is missing (idempotent).
# Everything comes from crates.io, npm or Debian: nothing downloads binaries from elsewhere.
#   scripts/setup.sh            toolchain for building the dashboard and the API
#   scripts/setup.sh --browser  the same, plus Chromium and ChromeDriver for browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132.0.0
AXE_VERSION=4.11.4
# Tools are compiled in their own target dir so that reinstalling them reuses shared crates.
INSTALL_TARGET="${COACHBOARD_TOOLS_TARGET:-$HOME/.cache/coachboard/tools-target}"
export PATH="$HOME/.cargo/bin:$PWD/.tools/node_modules/.bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION"; then
  step "installing trunk $TRUNK_VERSION (a few minutes, once)"
  # trunk only starts other programs: a short build, not its own release profile (fat LTO,
  # one codegen unit), which costs minutes on a new machine.
  CARGO_TARGET_DIR="$INSTALL_TARGET" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked trunk --version "$TRUNK_VERSION"
fi

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  step "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: its lock file pins a crate version the registry no longer serves.
  CARGO_TARGET_DIR="$INSTALL_TARGET" cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# wasm-opt from npm's binaryen (Debian's is too old and yields a blank page).
if ! .tools/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  step "installing wasm-opt (npm binaryen $BINARYEN_VERSION) into .tools/"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION"
fi

# brotli compresses the dashboard's assets ahead of time (scripts/precompress.sh).
if ! command -v brotli >/dev/null; then
  step "installing brotli from Debian"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq brotli >/dev/null
fi

if [ "${1:-}" = "--browser" ]; then
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    step "installing Chromium and ChromeDriver from Debian"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
  # axe-core runs in the page during the browser tests (every accessibility rule).
  if [ ! -f .tools/node_modules/axe-core/axe.min.js ]; then
    step "installing axe-core (npm) into .tools/"
    mkdir -p .tools
    npm install --prefix .tools --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION"
  fi
fi
