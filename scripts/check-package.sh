#!/usr/bin/env bash
# Checks the Debian package as a user gets it: its desktop entry, AppStream metainfo and lintian
# first, then `dpkg -i`, the installed `mailcfg --version`, `validate` of every shipped example,
# the man pages and completions, the window started from the desktop entry (dex) under Xvfb
# with a screenshot, then `dpkg -r` and a look that nothing is left. Needs root or sudo.
# Usage: check-package.sh PATH.deb [SCREENSHOT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(realpath "${1:?usage: check-package.sh PATH.deb [SCREENSHOT.png]}")
shot=${2:-$(dirname "$deb")/menu-entry.png}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
fail() { echo "check-package: FAILED: $*" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)

bash scripts/apt-install.sh lintian desktop-file-utils appstream dex man-db xvfb xauth x11-utils \
  xdotool imagemagick zsh fish

work=$(mktemp -d)
launcher=""
xvfb=""
cleanup() {
  # dex and the app it started share the process group that setsid made for them.
  [ -n "$launcher" ] && kill -- "-$launcher" 2>/dev/null
  [ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== the package: $(basename "$deb"), $(stat -c %s "$deb") bytes"
dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|' | grep -v '/$' | sort >"$work/files"
cat "$work/files"
expect=(/usr/bin/mailcfg /usr/share/applications/mailcfg.desktop
  /usr/share/metainfo/io.github.mailcfg.mailcfg.metainfo.xml
  /usr/share/icons/hicolor/scalable/apps/mailcfg.svg /usr/share/icons/hicolor/48x48/apps/mailcfg.png
  /usr/share/man/man1/mailcfg.1.gz /usr/share/bash-completion/completions/mailcfg
  /usr/share/zsh/vendor-completions/_mailcfg /usr/share/fish/vendor_completions.d/mailcfg.fish
  /usr/share/doc/mailcfg/copyright /usr/share/doc/mailcfg/changelog.gz
  /usr/share/doc/mailcfg/changelog.Debian.gz /usr/share/doc/mailcfg/README.md
  /usr/share/doc/mailcfg/examples/monitoring/mailcfg-check@.service)
for f in "${expect[@]}"; do grep -qxF "$f" "$work/files" || fail "the package has no $f"; done
# A man page for every command that `mailcfg --help` lists.
dpkg-deb -x "$deb" "$work/root"
for c in $("$work/root/usr/bin/mailcfg" --help | awk '/^Commands:/ {on=1; next} /^$/ {on=0} on && /^  [a-z]/ && $1 != "help" {print $1}'); do
  grep -qxF "/usr/share/man/man1/mailcfg-$c.1.gz" "$work/files" || fail "no man page for mailcfg $c"
done

echo "== desktop-file-validate"
desktop-file-validate "$work/root/usr/share/applications/mailcfg.desktop"
echo "== appstreamcli validate"
appstreamcli validate --no-net --explain "$work/root/usr/share/metainfo/io.github.mailcfg.mailcfg.metainfo.xml"
# The metainfo with the desktop entry and icon it names, as a software centre reads them.
appstreamcli validate-tree --no-net "$work/root"
echo "== lintian (every tag, info and pedantic too; errors fail)"
lintian --fail-on error --display-info --pedantic --tag-display-limit 0 "$deb" | tee "$work/lintian"
echo "lintian: $(grep -c '^E:' "$work/lintian" || true) errors, $(grep -c '^W:' "$work/lintian" || true) warnings, $(grep -c '^[IP]:' "$work/lintian" || true) info/pedantic"

# What /usr, /etc and /opt hold before, to compare after `dpkg -r`. The caches that triggers of
# other packages rebuild (icons, desktop entries' MIME types) may change and are left out.
snapshot() { find /usr /etc /opt -xdev 2>/dev/null | grep -Ev '/(icon-theme|mimeinfo)\.cache$' | sort; }
if dpkg-query -W -f='${Status}' mailcfg 2>/dev/null | grep -q "ok installed"; then
  echo "note: mailcfg was installed already; removing it first"
  $sudo dpkg -r mailcfg >/dev/null
fi
snapshot >"$work/before"

echo "== dpkg -i"
# The declared dependencies, first of each set of alternatives, as apt would bring them.
mapfile -t deps < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/ //g' | grep .)
bash scripts/apt-install.sh "${deps[@]}"
$sudo dpkg -i "$deb"

echo "== the installed mailcfg"
[ "$(command -v mailcfg)" = /usr/bin/mailcfg ] || fail "mailcfg on PATH is $(command -v mailcfg)"
mailcfg --version | tee "$work/version"
grep -Eq "^mailcfg $version( \([0-9a-f]{7}( [0-9]{4}-[0-9]{2}-[0-9]{2})?\))?$" "$work/version" ||
  fail "mailcfg --version does not say version $version"
for p in /usr/share/doc/mailcfg/examples/*.toml /usr/share/doc/mailcfg/examples/*.json; do
  mailcfg validate "$p"
done
for page in $(sed -n 's|^/usr/share/man/man1/\(.*\)\.1\.gz$|\1|p' "$work/files"); do
  # Found by man itself, and rendered without a groff warning.
  man -w "$page" >/dev/null || fail "man does not find $page"
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$(man -w "$page")" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "man $page: $warnings"
done
echo "man pages: $(grep -c '/man1/' "$work/files") found by man, no groff warnings"
# Each shell finds the completions where Debian puts them, and they complete the commands.
bash_words=$(bash -c 'source /usr/share/bash-completion/completions/mailcfg
  COMP_WORDS=(mailcfg va); COMP_CWORD=1; COMP_LINE="mailcfg va"; COMP_POINT=${#COMP_LINE}
  _mailcfg mailcfg va mailcfg; echo "${COMPREPLY[*]}"')
[ "$bash_words" = validate ] || fail "bash completes 'mailcfg va' to '$bash_words'"
fish_words=$(HOME="$work" fish -c 'complete -C "mailcfg check --for"' | cut -f1)
[ "$fish_words" = --format ] || fail "fish completes 'mailcfg check --for' to '$fish_words'"
zsh -c 'print -l $fpath' | grep -qx /usr/share/zsh/vendor-completions || fail "zsh does not read /usr/share/zsh/vendor-completions"
zsh -n /usr/share/zsh/vendor-completions/_mailcfg
echo "completions: bash and fish complete, zsh finds and parses _mailcfg"

echo "== the window, from the desktop menu entry (dex), under Xvfb"
# -displayfd: Xvfb picks a free display itself and writes its number (others may run one too).
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
xvfb=$!
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
[ -s "$work/display" ] || fail "Xvfb did not start: $(cat "$work/xvfb.log")"
export DISPLAY=":$(cat "$work/display")"
mkdir -p "$work/config" "$work/runtime"
chmod 700 "$work/runtime"
# dex runs the entry's Exec line (and waits for it, in a process group of their own); the app's
# settings go to a throwaway folder.
XDG_CONFIG_HOME="$work/config" XDG_RUNTIME_DIR="$work/runtime" \
  setsid dex --wait /usr/share/applications/mailcfg.desktop &
launcher=$!
wid=$(timeout 30 xdotool search --sync --name '^mailcfg' | head -1) || fail "no mailcfg window appeared"
app=$(xdotool getwindowpid "$wid")
[ "$(readlink "/proc/$app/exe")" = /usr/bin/mailcfg ] || fail "the window is not /usr/bin/mailcfg's"
sleep 3
import -window "$wid" "$shot"
# Something was drawn: a blank screen has no spread of colours.
spread=$(identify -format '%[fx:standard_deviation]' "$shot")
awk -v s="$spread" 'BEGIN {exit !(s > 0.02)}' || fail "the screenshot is blank (deviation $spread)"
echo "window: /usr/bin/mailcfg (pid $app) from the menu entry; screenshot $shot"
# Every library the running window has mapped comes from a package that the declared
# dependencies bring, directly or through theirs: nothing works only by luck on this machine.
closure() {
  local -A seen=()
  local queue=(mailcfg) p
  while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    [ -n "${seen[$p]:-}" ] && continue
    seen[$p]=1
    for d in $(dpkg-query -W -f='${Depends},${Pre-Depends}' "$p" 2>/dev/null | tr ',' '\n' |
      sed 's/(.*)//; s/:any//g' | tr '|' '\n' | sed 's/ //g' | grep .); do
      # Of a set of alternatives, those installed; a virtual package, its installed providers.
      dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "ok installed" && queue+=("$d")
    done
  done
  printf '%s\n' "${!seen[@]}"
}
closure | sort >"$work/closure"
grep -o '/[^ ]*\.so[.0-9]*$' "/proc/$app/maps" | sort -u >"$work/libs"
missing=""
while read -r lib; do
  # dpkg knows each file by the path its package gave; with /usr merged, that may lack /usr.
  owner=""
  for path in "$lib" "$(realpath "$lib")" "${lib#/usr}" "$(realpath "$lib" | sed 's|^/usr||')"; do
    owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) && break || owner=""
  done
  [ -z "$owner" ] && continue # not from a package (none expected)
  grep -qxF "$owner" "$work/closure" || missing+=" $owner($lib)"
done <"$work/libs"
[ -z "$missing" ] || fail "the window maps libraries of packages that Depends does not bring:$missing"
echo "libraries: $(wc -l <"$work/libs") mapped, every one from the dependencies ($(wc -l <"$work/closure") packages)"
kill "$app"
wait "$launcher" 2>/dev/null || true
launcher=""

echo "== dpkg -r"
$sudo dpkg -r mailcfg
status=$(dpkg-query -W -f='${Status}' mailcfg 2>/dev/null || true)
# No conffiles, so nothing is kept for a purge: the package is gone from dpkg's view.
case "$status" in "" | *not-installed) ;; *) fail "after dpkg -r, mailcfg is: $status" ;; esac
while read -r f; do [ ! -e "$f" ] || fail "$f is still there"; done <"$work/files"
snapshot >"$work/after"
if ! diff "$work/before" "$work/after" >"$work/diff"; then
  cat "$work/diff"
  fail "/usr, /etc or /opt differ after install and removal"
fi
echo "removed: no file of the package is left, and /usr, /etc and /opt are as before"
