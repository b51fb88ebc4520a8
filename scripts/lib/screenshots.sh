# The set-up every screenshot script shares, sourced after `set -euo pipefail`, the `cd` to the
# repository and `out=` (the output folder):
#   source scripts/lib/screenshots.sh WIDTHxHEIGHT [more Xvfb options]
# It installs what the window and the servers need, builds, and leaves: $work (a temporary
# folder), $bin (a private copy of the debug binary: another build in the shared target folder
# must not swap it mid-run), $DISPLAY (an Xvfb of that size) and the test servers' variables.
# At exit it kills $app and every pid in also_kill, Xvfb and the servers, and removes $work.
screen=$1
shift
mkdir -p "$out"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/mailcfg-target}"
bash scripts/apt-install.sh xvfb xauth xdotool imagemagick x11-utils libxkbcommon-x11-0 libgl1 libegl1 libgl1-mesa-dri
bash tests/servers/install.sh
cargo build --locked -q
work=$(mktemp -d)
bin="$work/mailcfg"
cp "$CARGO_TARGET_DIR/debug/mailcfg" "$bin"
# Xvfb picks a free display itself (-displayfd): other Xvfb instances may run on this machine.
Xvfb -displayfd 3 -screen 0 "${screen}x24" -nolisten tcp "$@" 3>"$work/display" >/dev/null 2>&1 &
xvfb=$!
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.05; done
display=":$(cat "$work/display")"
app=""
also_kill=()
cleanup() {
  [ -n "$app" ] && kill "$app" 2>/dev/null
  for pid in "${also_kill[@]}"; do kill "$pid" 2>/dev/null; done
  kill "$xvfb" 2>/dev/null
  MAILCFG_TEST_STATE="$work/servers" bash tests/servers/stop.sh >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export DISPLAY="$display" XDG_RUNTIME_DIR="$work"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
eval "$(MAILCFG_TEST_STATE="$work/servers" MAILCFG_TEST_NO_BUILD=0 bash tests/servers/start.sh)"
