#!/usr/bin/env bash
# Every check the project has, in the order a failure is cheapest to see: formatting, lints, unit
# and integration tests (against real Dovecot and a local identity provider on 127.0.0.1), the
# real window under Xvfb, and the Debian package (built, linted, installed, run from its desktop
# entry, removed). Installs what is missing first. `.ci/run` calls exactly this.
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
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# A log of this run only (several runs may share the machine).
log=$(mktemp /tmp/mailcfg-test.XXXXXX.log)
cargo test --locked --no-fail-fast 2>&1 | tee "$log"
echo "== the window under Xvfb"
XDG_RUNTIME_DIR=$(mktemp -d) xvfb-run -a -s "-screen 0 1024x768x24" \
  "$CARGO_TARGET_DIR/debug/mailcfg" --exit-after-frames 5
echo "window: opened, drew 5 frames, closed"
echo "== the Debian package (scripts/package.sh, scripts/check-package.sh)"
package_start=$(date +%s)
package_log=$(mktemp /tmp/mailcfg-package.XXXXXX.log)
bash scripts/package.sh 2>&1 | tee "$package_log"
bash scripts/check-package.sh "$(tail -1 "$package_log")"
echo "package: built and checked in $(( $(date +%s) - package_start )) s"

passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
echo "all checks done in $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
