#!/usr/bin/env bash
# Builds the Debian package from this clone and prints its path on the last line:
# $CARGO_TARGET_DIR/debian/mailcfg_VERSION-1_ARCH.deb. Installs cargo-deb first when it is missing
# (a pinned version, built by `cargo install`, a few minutes once). The release build takes
# 5-10 minutes on two cores when nothing is built yet. docs/packaging.md says what goes where.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/mailcfg-target}"
export CARGO_TERM_COLOR=never
CARGO_DEB_VERSION=3.8.0
start=$(date +%s)

# One version everywhere: Cargo.toml, the Debian changelog, the AppStream release, CHANGELOG.md.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
fail() { echo "package.sh: $*" >&2; exit 1; }
head -1 packaging/debian/changelog | grep -qF "mailcfg ($version-1) " ||
  fail "packaging/debian/changelog: its first entry is not mailcfg ($version-1); add one for this version"
grep -o '<release version="[^"]*"' packaging/io.github.mailcfg.mailcfg.metainfo.xml | head -1 |
  grep -qF "\"$version\"" ||
  fail "packaging/io.github.mailcfg.mailcfg.metainfo.xml: its first <release> is not version $version"
grep -m1 '^## ' CHANGELOG.md | grep -qF "## $version " ||
  fail "CHANGELOG.md: its newest section is not \"## $version (DATE)\""

if ! cargo deb --version 2>/dev/null | grep -qxF "cargo-deb $CARGO_DEB_VERSION"; then
  echo "== cargo install cargo-deb $CARGO_DEB_VERSION (once; a few minutes)"
  # Its own throwaway target folder, not the project's.
  env -u CARGO_TARGET_DIR cargo install cargo-deb --locked --version "$CARGO_DEB_VERSION"
fi

echo "== cargo build --release (mailcfg, and xtask for the man pages and completions)"
# One build for both: they share every crate, so xtask costs its own few files only.
cargo build --release --locked -p mailcfg -p xtask
generated="$CARGO_TARGET_DIR/release/generated"
rm -rf "$generated"
"$CARGO_TARGET_DIR/release/xtask" dist "$generated"
# cargo-deb compresses only the man pages it does not count as build products; -n: no name or
# time stamp in the archive, so the same commit packs the same bytes.
gzip -9n "$generated"/man/*.1

echo "== cargo deb"
out="$CARGO_TARGET_DIR/debian"
mkdir -p "$out"
# --strip: also drops the .comment and .note sections, which the release profile keeps.
deb=$(cargo deb --no-build --strip --locked -p mailcfg --output "$out" | tail -1)
[ -f "$deb" ] || fail "cargo deb did not say where the package is (got: $deb)"
echo "package: $(du -h "$deb" | cut -f1) ($(stat -c %s "$deb") bytes), built in $(($(date +%s) - start)) s"
echo "$deb"
