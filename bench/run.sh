#!/usr/bin/env bash
# mailcfg's benchmarks (issue 8), rerunnable from a clean clone: installs what it needs with
# apt-get, builds the release binary and the test servers, then (bench/measure.sh, in a network
# namespace of its own made with `unshare -n`: loopback only) starts the real servers (Dovecot and
# the local identity provider), measures, prints Markdown tables, stops everything.
#
#   bash bench/run.sh [--runs N] [--rtt-runs N] [--rtt-ms MS] [--mailboxes N] [--only LIST] [--baseline BIN]
#
# LIST: connection,split,rtt,many,window (default all). Results also go to $MAILCFG_BENCH_OUT (default
# a temporary folder, printed at the end): results.md and results.json with every raw figure.
# BENCHMARKS.md says what each figure means and holds the figures of a run.
#
# Round trips: the issue asks for `tc qdisc … netem delay` in a network namespace of our own. This
# script checks whether the kernel has netem (in a namespace made with `unshare -n`, so nothing on
# the machine changes) and says what it found; on the machine BENCHMARKS.md was measured on it has
# not ("Specified qdisc kind is unknown": no sch_netem, no modules to load), so the delay comes from
# bench/delay_proxy.py, a TCP proxy that adds the same one-way delay in each direction and
# emulates the TCP handshake's round trip. It is used on every machine, netem or not, so figures
# from different machines compare.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/mailcfg-target}"
export CARGO_TERM_COLOR=never

# What the benchmarks run: the servers (Dovecot with IMAP, POP3, submission; openssl for the PKI),
# curl, Python 3, GNU time (peak memory), Xvfb and the window's runtime libraries, iproute2 (tc,
# for the netem check), util-linux (unshare), file (is the binary stripped?).
bash scripts/apt-install.sh dovecot-core dovecot-imapd dovecot-pop3d dovecot-submissiond openssl \
  curl python3 time file iproute2 util-linux xvfb xauth x11-utils libxkbcommon-x11-0 libgl1 libegl1 \
  libgl1-mesa-dri

echo "== building (release): mailcfg, test-servers, bench-rng" >&2
cargo build --release --locked --bin mailcfg --example test-servers --example bench-rng >&2

work=$(mktemp -d /tmp/mailcfg-bench.XXXXXX)
out="${MAILCFG_BENCH_OUT:-$work/out}"
mkdir -p "$out"
# Private copies: another build in the shared target folder must not swap them mid-run.
cp "$CARGO_TARGET_DIR/release/mailcfg" "$work/mailcfg"
cp "$CARGO_TARGET_DIR/release/examples/test-servers" "$work/test-servers"

# Does this kernel have netem? Checked in a throwaway network namespace.
netem="unavailable"
if unshare -n true 2>/dev/null; then
  if err=$(unshare -n sh -c 'ip link set lo up && tc qdisc add dev lo root netem delay 25ms' 2>&1); then
    netem="available (not used: the delay proxy is, for figures that compare across machines)"
  else
    netem="unavailable here (unshare -n works; tc netem: ${err//$'\n'/ })"
  fi
else
  netem="not checked (unshare -n refused: no network namespaces here)"
fi
echo "tc netem: $netem" >&2

cp "$CARGO_TARGET_DIR/release/examples/bench-rng" "$work/bench-rng"
# Everything the servers need is installed now: inside the namespace there is no network.
bash tests/servers/install.sh

# The measurements run in a network namespace of their own (loopback only: the servers, the
# clients, the delay proxy and Xvfb all live on 127.0.0.0/8 and in Unix sockets), so no other
# traffic on the machine's loopback shares their path. Where namespaces are refused, on the host.
if unshare -n true 2>/dev/null; then
  where="a network namespace of its own (unshare -n), loopback only"
  ns=(unshare -n)
else
  where="the host's network (unshare -n refused)"
  ns=()
fi
echo "measuring in $where" >&2
"${ns[@]}" bash bench/measure.sh "$work" "$out" "$netem; measured in $where" "$@"
echo
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); results in $out (results.md, results.json)"
