#!/bin/sh
# A $BROWSER for the delegated sign-in tests: headless Chromium opens the sign-in address ($1),
# follows the identity provider's redirect to mailcfg's loopback listener, and exits.
# With FORGE_DIR set, it first sends the listener a forged redirect with a wrong state and writes
# the HTTP status it got to $FORGE_DIR/forged (the listener must refuse it and keep waiting).
set -u
if [ -n "${FORGE_DIR:-}" ]; then
  port=$(printf '%s' "$1" | sed -n 's/.*redirect_uri=http%3A%2F%2Flocalhost%3A\([0-9]*\).*/\1/p')
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/?code=forged&state=not-the-one" >"$FORGE_DIR/forged.tmp"
  mv "$FORGE_DIR/forged.tmp" "$FORGE_DIR/forged"
fi
U=$(mktemp -d)
chromium --headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$U" --dump-dom "$1" >/dev/null 2>&1
rm -rf "$U"
