#!/usr/bin/env bash
# The measuring half of bench/run.sh, which runs it in a network namespace of its own
# (`unshare -n`): brings up loopback, starts the test servers, measures, stops the servers.
# Usage: measure.sh WORK_DIR OUT_DIR NETEM_NOTE [bench.py options...]
#   WORK_DIR holds the binaries run.sh copied there: mailcfg, test-servers, bench-rng.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$1 out=$2 netem=$3
shift 3
# A fresh namespace's loopback is down; on the host this is a no-op (or refused: then it is up).
ip link set lo up 2>/dev/null || true

state="$work/servers"
cleanup() {
  MAILCFG_TEST_STATE="$state" bash tests/servers/stop.sh >/dev/null 2>&1 || true
}
trap cleanup EXIT
# One app-only token must open all the mailboxes of the many-mailbox test: --app-opens-domain
# (Dovecot then compares only the domain of the login name with the introspection's answer).
MAILCFG_TEST_STATE="$state" MAILCFG_TEST_NO_BUILD=1 MAILCFG_TEST_SERVERS_BIN="$work/test-servers" \
  MAILCFG_TEST_APP_OPENS_DOMAIN=1 bash tests/servers/start.sh >"$work/servers.env"

python3 bench/bench.py --env "$work/servers.env" --mailcfg "$work/mailcfg" --work "$out" \
  --netem "$netem" "$@"
# Why mailcfg's first TLS handshake is slow on loopback (BENCHMARKS.md, section 1).
echo "### The first random number of a process (bench-rng, 3 runs)" | tee -a "$out/results.md"
echo | tee -a "$out/results.md"
for _ in 1 2 3; do "$work/bench-rng" | sed 's/^/    /' | tee -a "$out/results.md"; done
