#!/usr/bin/env bash
# Starts the test servers (IdP, Dovecot, SMTP sink, PKI) in the background for manual use and
# benchmarks, and prints their env file (KEY=value lines: ports, CA, authority, a ready app-only
# client). Idempotent: when the recorded instance is alive it only prints the env file.
#   state dir: $MAILCFG_TEST_STATE (default /tmp/mailcfg-test-servers): env, pid, dovecot.pid, log, sink/
#   use:       eval "$(tests/servers/start.sh)"  or  . /tmp/mailcfg-test-servers/env
#   stop:      tests/servers/stop.sh
# MAILCFG_TEST_NO_BUILD=1 skips `cargo build` (uses the binary already built).
# MAILCFG_TEST_SERVERS_BIN=PATH runs that test-servers binary (e.g. a release build) instead.
# MAILCFG_TEST_APP_OPENS_DOMAIN=1: the app-only token opens every mailbox of example.test.
set -euo pipefail
cd "$(dirname "$0")/../.."
state="${MAILCFG_TEST_STATE:-/tmp/mailcfg-test-servers}"
mkdir -p "$state"

# Alive = the recorded pid runs and is our binary (not a recycled pid).
alive() {
  local pid
  pid=$(cat "$state/pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && grep -qa 'test-servers' "/proc/$pid/cmdline" 2>/dev/null
}

# Waits (30 s at most) for the env file while the recorded pid lives. kill -0, not alive(): just
# after `&` the child may not have exec'd the binary yet.
wait_env() {
  local pid
  pid=$(cat "$state/pid")
  for _ in $(seq 1 300); do
    [ -f "$state/env" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

if alive; then
  if wait_env; then cat "$state/env"; exit 0; fi
  echo "test servers (pid $(cat "$state/pid")) run but never became ready; see $state/log" >&2
  exit 1
fi

bash tests/servers/install.sh >&2
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/mailcfg-target}"
if [ "${MAILCFG_TEST_NO_BUILD:-}" != 1 ]; then
  cargo build -q --example test-servers >&2
fi
rm -f "$state/env" "$state/env.tmp" "$state/dovecot.pid"
extra=()
[ "${MAILCFG_TEST_APP_OPENS_DOMAIN:-}" = 1 ] && extra+=(--app-opens-domain)
nohup "${MAILCFG_TEST_SERVERS_BIN:-$CARGO_TARGET_DIR/debug/examples/test-servers}" --state-dir "$state" "${extra[@]}" >"$state/log" 2>&1 </dev/null &
echo $! >"$state/pid"
if ! wait_env; then
  echo "test servers did not start:" >&2
  cat "$state/log" >&2
  kill -TERM "$(cat "$state/pid")" 2>/dev/null || true
  rm -f "$state/pid"
  exit 1
fi
# Kept apart from env (which the binary removes on exit) so stop.sh can always find Dovecot.
sed -n 's/^MAILCFG_TEST_DOVECOT_PID=//p' "$state/env" >"$state/dovecot.pid"
cat "$state/env"
