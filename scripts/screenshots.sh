#!/usr/bin/env bash
# Takes the README's screenshots from the real window under Xvfb, against the real test servers
# (Dovecot, the local identity provider): anyone can rerun it. Besides the README's, the account
# (token card and checklist) and a failed test at 800x600 and 1920x1080, dark and light.
# Usage: scripts/screenshots.sh [OUTPUT_DIR]   (default docs/screenshots)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/screenshots}"
source scripts/lib/screenshots.sh 1920x1080
# A profile from the Microsoft 365 preset, pointed at the servers.
profile="$work/contoso.toml"
cat >"$profile" <<TOML
version = 1

[[accounts]]
name = "Office365"
provider = "microsoft"
flow = "app-only"
tenant = "$MAILCFG_TEST_TENANT"
client_id = "$MAILCFG_TEST_CLIENT_ID"
enterprise_object_id = "9d8e7f60-5a4b-4c3d-8e2f-1a0b9c8d7e6f"
client_secret_expires = "$(date -d '+20 days' +%F)"
authority = "$MAILCFG_TEST_AUTHORITY"
scopes = ["https://outlook.office365.com/.default"]

[[transports]]
name = "Support SMTP"
host = "127.0.0.1"
port = $MAILCFG_TEST_SUBMISSION_PORT
encryption = "starttls"
username = "$MAILCFG_TEST_MAILBOX"
account = "Office365"

[[mailboxes]]
name = "Support"
protocol = "imap"
host = "127.0.0.1"
port = $MAILCFG_TEST_IMAPS_PORT
encryption = "tls"
user = "$MAILCFG_TEST_MAILBOX"
account = "Office365"

[[mailboxes]]
name = "Sales (not granted)"
protocol = "imap"
host = "127.0.0.1"
port = $MAILCFG_TEST_IMAPS_PORT
encryption = "tls"
user = "sales@example.test"
account = "Office365"

[tls]
ca_file = "$MAILCFG_TEST_CA"
TOML
export MAILCFG_CLIENT_SECRET="$MAILCFG_TEST_CLIENT_SECRET"

shot() { # name, then the app's arguments; SIZE=WxH (default 1180x820), THEME=dark|light
  local name=$1; shift
  local size=${SIZE:-1180x820}
  XDG_CONFIG_HOME="$work/config-$name" "$bin" --theme "${THEME:-dark}" "$@" >/dev/null 2>&1 &
  app=$!
  local wid="" try
  # xdotool now and then fails to connect to a busy Xvfb ("Can't open display"): try again.
  for try in 1 2 3 4 5; do
    wid=$(timeout 20 xdotool search --sync --name '^mailcfg' 2>/dev/null | head -1) || true
    [ -n "$wid" ] && break
    sleep 1
  done
  [ -n "$wid" ] || { echo "no mailcfg window for $name" >&2; return 1; }
  xdotool windowsize "$wid" "${size%x*}" "${size#*x}"
  sleep 3 # the first frames, the sign-in and the tests
  if [ "${SCROLL:-0}" -gt 0 ]; then # wheel down over the form, then let it settle
    xdotool mousemove --window "$wid" 700 500 click --repeat "$SCROLL" --delay 30 5
    sleep 0.5
  fi
  import -window "$wid" "$out/$name.png"
  kill "$app"; wait "$app" 2>/dev/null || true; app=""
  echo "$out/$name.png"
}
shot main
shot signed-in --open "$profile" --test-all --select account:Office365
shot test-passed --open "$profile" --test-all --select mailbox:Support
shot test-failed --open "$profile" --test-all --select "mailbox:Sales (not granted)"
shot smtp --open "$profile" --test-all --select "transport:Support SMTP"
SCROLL=12 shot checklist --open "$profile" --test-all --select account:Office365
for theme in dark light; do
  for size in 800x600 1920x1080; do
    SIZE=$size THEME=$theme shot "account-$size-$theme" --open "$profile" --test-all --select account:Office365
    SIZE=$size THEME=$theme shot "failed-$size-$theme" --open "$profile" --test-all --select "mailbox:Sales (not granted)"
  done
done
shot setup --open "$profile" --select setup:Office365
