#!/usr/bin/env bash
# Stops the test servers started by start.sh: SIGTERM to the pid it recorded (the binary then
# kills its Dovecot and removes its tempdir), SIGKILL after 5 s. Then, if the recorded Dovecot pid
# still runs (only when the binary was killed hard), kills that too. Kills nothing else.
set -euo pipefail
state="${MAILCFG_TEST_STATE:-/tmp/mailcfg-test-servers}"

# is_ours PID PATTERN: the pid runs and its command line matches (guards against recycled pids).
is_ours() { [ -n "$1" ] && grep -qa "$2" "/proc/$1/cmdline" 2>/dev/null; }

pid=$(cat "$state/pid" 2>/dev/null || true)
dpid=$(cat "$state/dovecot.pid" 2>/dev/null || true)
if is_ours "$pid" test-servers; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    is_ours "$pid" test-servers || break
    sleep 0.1
  done
  if is_ours "$pid" test-servers; then kill -KILL "$pid"; fi
  echo "stopped test servers (pid $pid)"
else
  echo "test servers were not running"
fi
if is_ours "$dpid" dovecot; then
  kill -KILL "$dpid"
  echo "killed leftover dovecot (pid $dpid)"
fi
rm -f "$state/pid" "$state/dovecot.pid" "$state/env" "$state/env.tmp"
