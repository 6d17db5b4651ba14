#!/usr/bin/env bash
# make demo: the main job end to end on the embedded default table.
# Serve, ask (the lab's lines and more), capture to pcaps/session.pcap, stop, verify, and
# write the capture's page beside it (pcaps/session.html).
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR="${NO_COLOR-}"
. scripts/serve-lib.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
mkdir -p pcaps
say "craft dns-serve: the lab table, capturing to pcaps/session.pcap"
start_craft "$work/server.out" dns-serve --pcap pcaps/session.pcap
cat "$work/server.err"
ask() { echo "\$ craft dns-ask $*"; craft dns-ask --port "$port" "$@" || echo "(exit $?)"; }

say "The lab's client, interactive: google.com, google.ca, end"
echo "\$ printf 'google.com\\ngoogle.ca\\nend\\n' | craft dns-ask"
printf 'google.com\ngoogle.ca\nend\n' | craft dns-ask --port "$port"

say "The lab report's figure: google.ca query and response, field by field"
ask google.ca --hex

say "The other paths: unknown name, other types, out of zone, EDNS, TCP"
ask nope.google.com
ask google.com -t NS
ask amazon.ca -t SOA
ask youtube.com -t MX
ask example.org
ask wikipedia.org --edns
ask uwaterloo.ca --tcp

say "What the server printed (the lab's Request:/Response: hex, with Scapy's verdicts)"
sleep 0.3
head -n 40 "$work/server.out"
echo "... ($(grep -c '^Request:' "$work/server.out") exchanges in all)"

say "Stopping the server (SIGTERM to PID $pid)"
stop_craft
tail -n 2 "$work/server.err"

say "craft verify pcaps/session.pcap: craft and Scapy must agree on every message"
craft verify pcaps/session.pcap --stats --html pcaps/session.html
echo "wrote pcaps/session.html: the exchanges, each message field by field (opens offline)"
