#!/usr/bin/env bash
# Takes the README's screenshots from the real window under Xvfb: anyone can rerun it.
# Usage: scripts/screenshots.sh [OUTPUT_DIR]   (default docs/screenshots)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots}"
mkdir -p "$out"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/mailcfg-target}"
bash scripts/apt-install.sh xvfb xauth xdotool imagemagick libxkbcommon-x11-0 libgl1 libegl1 libgl1-mesa-dri
cargo build --locked -q
bin="$CARGO_TARGET_DIR/debug/mailcfg"

display=":$(( 90 + RANDOM % 100 ))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
runtime=$(mktemp -d)
app=""
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; rm -rf "$runtime"; }
trap cleanup EXIT
export DISPLAY="$display" XDG_RUNTIME_DIR="$runtime"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

shot() { # name, then the app's arguments
  local name=$1; shift
  "$bin" "$@" >/dev/null 2>&1 &
  app=$!
  local wid
  wid=$(timeout 20 xdotool search --sync --name '^mailcfg' | head -1)
  sleep 1.5 # let the first frames settle
  import -window "$wid" "$out/$name.png"
  kill "$app"; wait "$app" 2>/dev/null || true; app=""
  echo "$out/$name.png"
}
shot main
