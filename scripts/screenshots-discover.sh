#!/usr/bin/env bash
# Takes the screenshots of "Start from an e-mail address" from the real window under Xvfb, against
# the real test servers: dnsmasq answers for example.test (its MX points at a filter, its SRV
# records at Dovecot), the local identity provider knows the tenant. The flow: File → New, the
# address, the timeline, the draft in the forms with each field's source, app-only and the client
# ID typed in as a user would, then a green Test of the mailbox.
# Usage: scripts/screenshots-discover.sh [OUTPUT_DIR]   (default docs/screenshots)
# The clicks are at the positions of the default layout of a 1180x820 window.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots}"
# -noreset: the second window must not meet a server resetting after the first one closed.
source scripts/lib/screenshots.sh 1920x1200 -noreset
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/dns.conf" <<CONF
port=$port
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
local=/test/
mx-host=example.test,mx1.filter.test,10
srv-host=_imaps._tcp.example.test,localhost,$MAILCFG_TEST_IMAPS_PORT,0,1
srv-host=_submission._tcp.example.test,localhost,$MAILCFG_TEST_SUBMISSION_PORT,0,1
CONF
dnsmasq --keep-in-foreground --conf-file="$work/dns.conf" --pid-file >/dev/null 2>&1 &
also_kill+=("$!")
# The profile the user has open: the test CA, and where discovery looks.
cat >"$work/base.toml" <<TOML
version = 1

[tls]
ca_file = "$MAILCFG_TEST_CA"

[discovery]
dns = "127.0.0.1:$port"
authority = "$MAILCFG_TEST_AUTHORITY"
ispdb = "http://127.0.0.1:9/v1.1/"
TOML
export MAILCFG_CLIENT_SECRET="$MAILCFG_TEST_CLIENT_SECRET"

start() { # width height, then the app's arguments
  local w=$1 h=$2; shift 2
  XDG_CONFIG_HOME="$work/config-$w" "$bin" "$@" >/dev/null 2>&1 &
  app=$!
  wid=$(timeout 20 xdotool search --sync --pid "$app" --name '^mailcfg' | head -1)
  xdotool windowsize "$wid" "$w" "$h"
  sleep 1.5
  xdotool windowfocus --sync "$wid"
}
shot() {
  import -window "$wid" "$out/$1.png"
  echo "$out/$1.png"
}
stop() {
  kill "$app"; wait "$app" 2>/dev/null || true; app=""
}
click() { xdotool mousemove --window "$wid" "$1" "$2" click 1; sleep "${3:-0.6}"; }

start 1180 820 --open "$work/base.toml"
xdotool key ctrl+n; sleep 0.5
xdotool type --delay 15 "$MAILCFG_TEST_MAILBOX"
xdotool key Return; sleep 2
shot discover-timeline
xdotool key Return; sleep 1 # "Use this draft" has the focus
shot discover-draft
click 520 142 0.5             # Sign-in
click 507 169                 # App-only (client credentials)
click 700 210 0.3             # Client ID
xdotool key ctrl+a
xdotool type --delay 5 "$MAILCFG_TEST_CLIENT_ID"; sleep 0.3
click 800 500 0.5             # (nowhere: the field lets go)
shot discover-app-only
click 90 176 1                # the mailbox
shot discover-mailbox
click 410 455 4               # Test
shot discover-test-green
stop

# Small and light: the start screen at 800x600.
start 800 600 --open "$work/base.toml" --theme light
xdotool key ctrl+n; sleep 0.5
xdotool type --delay 15 "$MAILCFG_TEST_MAILBOX"
xdotool key Return; sleep 2
shot discover-800x600-light
xdotool key Return; sleep 1
click 90 176 1                # the mailbox
shot discover-800x600-light-mailbox
stop

# Large: the start screen on a 1900x1150 window.
start 1900 1150 --open "$work/base.toml"
xdotool key ctrl+n; sleep 0.5
xdotool type --delay 15 "$MAILCFG_TEST_MAILBOX"
xdotool key Return; sleep 2
shot discover-large
stop
