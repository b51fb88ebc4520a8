#!/usr/bin/env bash
# The curl side of bench/run.sh: the same steps as `mailcfg test`, as far as curl can go.
# Usage (the client secret comes from MAILCFG_CLIENT_SECRET, as for mailcfg):
#   curl_client.sh token   TOKEN_URL CLIENT_ID SCOPE
#   curl_client.sh imap    TOKEN_URL CLIENT_ID SCOPE HOST PORT USER CA_FILE
#   curl_client.sh smtp    TOKEN_URL CLIENT_ID SCOPE HOST PORT USER CA_FILE
#   curl_client.sh profile TOKEN_URL CLIENT_ID SCOPE HOST IMAPS_PORT SMTP_PORT USER CA_FILE
# With TOKEN_URL "-", the token is read from MAILCFG_BENCH_TOKEN instead (a pre-fetched token).
# token: one curl POST (client credentials), the token cut out of the JSON with bash alone.
# imap:  IMAPS, AUTHENTICATE XOAUTH2 with SASL-IR (--sasl-ir: curl's best), EXAMINE INBOX, LOGOUT.
# smtp:  EHLO, STARTTLS, EHLO, AUTH XOAUTH2 (--sasl-ir), MAIL FROM, RCPT TO, DATA with a short
#        message, QUIT. curl has no way to stop after RCPT TO (without an upload it sends VRFY),
#        so its SMTP test always sends (compare it with `mailcfg test --send-to`).
# profile: one token, then imap, then smtp, one after the other.
set -euo pipefail
kind=$1 token_url=$2 client_id=$3 scope=$4
shift 4
if [ "$token_url" = - ]; then
  tok=$MAILCFG_BENCH_TOKEN
else
  json=$(curl -sS --fail -d grant_type=client_credentials --data-urlencode "client_id=$client_id" \
    --data-urlencode "client_secret=$MAILCFG_CLIENT_SECRET" --data-urlencode "scope=$scope" "$token_url")
  tok=${json#*\"access_token\":\"}
  tok=${tok%%\"*}
fi
auth=(--login-options AUTH=XOAUTH2 --sasl-ir --oauth2-bearer "$tok")
imap() { # host port user ca
  curl -sS --fail --cacert "$4" -u "$3:" "${auth[@]}" "imaps://$1:$2/" -X 'EXAMINE INBOX' >/dev/null
}
smtp() { # host port user ca
  printf 'From: %s\r\nTo: %s\r\nSubject: mailcfg benchmark\r\n\r\nbenchmark message\r\n' "$3" "$3" |
    curl -sS --fail --ssl-reqd --cacert "$4" -u "$3:" "${auth[@]}" "smtp://$1:$2/localhost" \
      --mail-from "$3" --mail-rcpt "$3" -T - >/dev/null
}
case $kind in
  token) ;;
  imap) imap "$1" "$2" "$3" "$4" ;;
  smtp) smtp "$1" "$2" "$3" "$4" ;;
  profile)
    imap "$1" "$2" "$4" "$5"
    smtp "$1" "$3" "$4" "$5"
    ;;
  *) echo "unknown test $kind" >&2; exit 2 ;;
esac
