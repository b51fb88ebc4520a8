#!/usr/bin/env bash
# Installs what the test servers need (Dovecot with IMAP, POP3 and submission; openssl for the
# throwaway PKI; curl for the smoke tests; dnsmasq for DNS) with apt-get, only what is missing.
# Quick and silent when everything is there: one dpkg-query, no apt at all. Our Dovecot never reads /etc/dovecot,
# so a system instance the package may start does not matter (own ports and base_dir).
set -euo pipefail
# chromium is the browser of the delegated sign-in tests; dbus-daemon (dbus-run-session) and
# gnome-keyring give the keyring tests a real Secret Service; prometheus brings promtool, which
# checks `mailcfg check --format prometheus` (its server is never started here); systemd brings
# systemd-analyze for the monitoring timer's units; dnsmasq-base (the binary alone, no system
# service) is the DNS server of the discovery tests. GNU time measures the peak memory of the
# fault tests' children (tests/support/child.rs).
packages=(dovecot-core dovecot-imapd dovecot-pop3d dovecot-submissiond openssl curl chromium dbus-daemon gnome-keyring prometheus systemd dnsmasq-base time)
missing=()
# One dpkg-query for all: unknown packages print nothing, so compare against the list.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null | awk '/ install ok installed$/ {print $1}' || true)
for p in "${packages[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
