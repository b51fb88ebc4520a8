#!/usr/bin/env bash
# Sets up what the window needs on Debian 12 and runs mailcfg (a release build, made once).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/apt-install.sh ca-certificates libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 \
  libx11-xcb1 libwayland-client0 libgl1 libegl1 libgl1-mesa-dri libfontconfig1 xdg-utils
if ! command -v cargo >/dev/null; then
  echo "mailcfg needs Rust 1.95 or newer. Install it with rustup (https://rustup.rs):"
  echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh"
  echo "then open a new terminal and run this script again."
  exit 2
fi
exec cargo run --release --locked -- "$@"
