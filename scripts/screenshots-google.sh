#!/usr/bin/env bash
# Google's screenshots from the real window under Xvfb, against the real test servers: the token
# card and a green Test for Gmail's delegated sign-in (headless Chromium as the browser) and for a
# Workspace service account (its JSON key imported through the form's path field), and the
# Google checklist. Usage: scripts/screenshots-google.sh [OUTPUT_DIR]  (default docs/screenshots)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots}"
source scripts/lib/screenshots.sh 1280x860
IFS=, read -r alice bob <<<"$MAILCFG_TEST_GOOGLE_SA_USERS"
key_id=$(sed -n 's/.*"private_key_id": "\([^"]*\)".*/\1/p' "$MAILCFG_TEST_GOOGLE_SA_KEY")
servers() { # account, users...
  local account=$1; shift
  for u in "$@"; do
    cat <<TOML

[[mailboxes]]
name = "${u%@*} IMAP"
protocol = "imap"
host = "localhost"
port = $MAILCFG_TEST_IMAPS_PORT
encryption = "tls"
user = "$u"
account = "$account"
TOML
  done
  cat <<TOML

[[transports]]
name = "${1%@*} SMTP"
host = "localhost"
port = $MAILCFG_TEST_SUBMISSION_PORT
encryption = "starttls"
username = "$1"
account = "$account"

[tls]
ca_file = "$MAILCFG_TEST_CA"
TOML
}
# The service account before its key is imported: the import fills client_email and the key ID.
workspace="$work/workspace.toml"
{
  cat <<TOML
version = 1

[[accounts]]
name = "Workspace"
provider = "google"
flow = "app-only"
client_id = "$MAILCFG_TEST_GOOGLE_SA_CLIENT_ID"
scopes = ["https://mail.google.com/"]
token_url = "$MAILCFG_TEST_GOOGLE_TOKEN_URL"
client_email = "$MAILCFG_TEST_GOOGLE_SA_EMAIL"
private_key_id = "$key_id"
TOML
  servers Workspace "$alice" "$bob"
} >"$workspace"
# The same account as another machine left it: its address, an old key ID, no key here.
import_profile="$work/workspace-import.toml"
sed 's/^private_key_id = .*/private_key_id = "an-old-key"/' "$workspace" >"$import_profile"
gmail="$work/gmail.toml"
{
  cat <<TOML
version = 1

[[accounts]]
name = "Gmail"
provider = "google"
flow = "delegated"
client_id = "$MAILCFG_TEST_GOOGLE_CLIENT_ID"
scopes = ["https://mail.google.com/"]
authorize_url = "$MAILCFG_TEST_GOOGLE_AUTHORIZE_URL"
token_url = "$MAILCFG_TEST_GOOGLE_TOKEN_URL"
TOML
  servers Gmail "$MAILCFG_TEST_GOOGLE_USER"
} >"$gmail"

window() { # the app's arguments: starts it and sets $wid
  XDG_CONFIG_HOME="$work/config-$RANDOM" "$bin" --theme "${THEME:-dark}" "$@" >/dev/null 2>&1 &
  app=$!
  wid=""
  local try
  # xdotool now and then fails to connect to a busy Xvfb: try again.
  for try in 1 2 3 4 5; do
    wid=$(timeout 20 xdotool search --sync --name '^mailcfg' 2>/dev/null | head -1) || true
    [ -n "$wid" ] && break
    sleep 1
  done
  [ -n "$wid" ] || { echo "no mailcfg window" >&2; return 1; }
  xdotool windowsize "$wid" "${WIDTH:-1180}" "${HEIGHT:-820}"
}
shot() { # name, then the app's arguments; WAIT seconds for the sign-ins and tests
  local name=$1; shift
  window "$@"
  sleep "${WAIT:-4}"
  if [ "${SCROLL:-0}" -gt 0 ]; then
    xdotool mousemove --window "$wid" 700 500 click --repeat "$SCROLL" --delay 30 5
    sleep 0.5
  fi
  import -window "$wid" "$out/$name.png"
  kill "$app"; wait "$app" 2>/dev/null || true; app=""
  echo "$out/$name.png"
}
# Gmail: the browser is headless Chromium; the Desktop app's secret comes from the environment.
export BROWSER="$PWD/tests/servers/headless-browser.sh"
MAILCFG_CLIENT_SECRET="$MAILCFG_TEST_GOOGLE_CLIENT_SECRET" WAIT=8 shot google-gmail-signed-in --open "$gmail" --test-all --select account:Gmail
MAILCFG_CLIENT_SECRET="$MAILCFG_TEST_GOOGLE_CLIENT_SECRET" WAIT=8 shot google-gmail-test-passed --open "$gmail" --test-all --select "mailbox:${MAILCFG_TEST_GOOGLE_USER%@*} IMAP"
# The service account's key imported by Import key… (no file dialog here, so the path field),
# then Get token, then Bob's mailbox tested with Bob's token. Positions are those of 1180 x 820.
window --open "$import_profile" --select account:Workspace
sleep 2
xdotool windowfocus --sync "$wid"
xdotool mousemove --window "$wid" 285 280 click 1 # Import key…
sleep 1
xdotool mousemove --window "$wid" 590 438 click 1 # the path field
xdotool key ctrl+a
xdotool type --delay 5 "$MAILCFG_TEST_GOOGLE_SA_KEY"
import -window "$wid" "$out/google-sa-key-path.png"
xdotool key Return
sleep 2
import -window "$wid" "$out/google-sa-key-imported.png"
xdotool mousemove --window "$wid" 275 411 click 1 # Get token
sleep 2.5
import -window "$wid" "$out/google-sa-token-card.png"
xdotool mousemove --window "$wid" 65 199 click 1 # bob IMAP
sleep 1
xdotool mousemove --window "$wid" 401 315 click 1 # Test
sleep 2.5
import -window "$wid" "$out/google-sa-bob-test-passed.png"
kill "$app"; wait "$app" 2>/dev/null || true; app=""
echo "$out/google-sa-key-path.png $out/google-sa-key-imported.png $out/google-sa-token-card.png $out/google-sa-bob-test-passed.png"
# The service account: its key from the key file (headless use, MAILCFG_SERVICE_ACCOUNT_KEY).
export MAILCFG_SERVICE_ACCOUNT_KEY="$MAILCFG_TEST_GOOGLE_SA_KEY"
SCROLL=14 shot google-sa-checklist --open "$workspace" --test-all --select account:Workspace
WIDTH=800 HEIGHT=600 shot google-sa-800x600 --open "$workspace" --test-all --select account:Workspace
THEME=light WIDTH=800 HEIGHT=600 shot google-sa-800x600-light --open "$workspace" --test-all --select account:Workspace
THEME=light WIDTH=1920 HEIGHT=1080 shot google-sa-1920x1080-light --open "$workspace" --test-all --select account:Workspace
unset MAILCFG_SERVICE_ACCOUNT_KEY
MAILCFG_CLIENT_SECRET="$MAILCFG_TEST_GOOGLE_CLIENT_SECRET" THEME=light WIDTH=800 HEIGHT=600 WAIT=8 shot google-gmail-800x600-light --open "$gmail" --test-all --select account:Gmail
