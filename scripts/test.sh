#!/usr/bin/env bash
# Every check the project has, in the order a failure is cheapest to see: formatting, lints, unit
# and integration tests (against real Dovecot and a local identity provider on 127.0.0.1), and the
# real window under Xvfb. Installs what is missing first. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# One target dir outside the clone: a fresh clone on a machine that built before is incremental.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/mailcfg-target}"
export CARGO_TERM_COLOR=never

bash tests/servers/install.sh
bash scripts/apt-install.sh xvfb xauth libxkbcommon-x11-0 libgl1 libegl1 libgl1-mesa-dri

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
# A log of this run only (several runs may share the machine).
log=$(mktemp /tmp/mailcfg-test.XXXXXX.log)
cargo test --locked --no-fail-fast 2>&1 | tee "$log"
echo "== the window under Xvfb"
XDG_RUNTIME_DIR=$(mktemp -d) xvfb-run -a -s "-screen 0 1024x768x24" \
  "$CARGO_TARGET_DIR/debug/mailcfg" --exit-after-frames 5
echo "window: opened, drew 5 frames, closed"

passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
echo "all checks done in $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
