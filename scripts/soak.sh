#!/usr/bin/env bash
# make soak: measure craft dns-serve's UDP maximum with dnsperf, then hold 80% of it for
# 60 seconds; report lost queries and the server's memory before and after. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dnsperf >/dev/null || { echo "installing dnsperf"; apt-get install -y -q dnsperf >/dev/null; }
seconds="${SOAK_SECONDS:-60}"
. scripts/serve-lib.sh
python3 - "$work/queries" <<'PY'
import sys
names = ["google.com", "youtube.com", "uwaterloo.ca", "wikipedia.org", "amazon.ca", "google.ca"]
lines = [f"{n} A" for n in names] + [f"{n} NS" for n in names] + ["google.com MX", "nope.google.com A",
         "example.org A", "GOOGLE.COM A", "amazon.ca SOA", "google.ca AAAA"]
open(sys.argv[1], "w").write("\n".join(lines * 50) + "\n")
PY
start_craft /dev/null dns-serve --quiet
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "craft dns-serve on 127.0.0.1:$port (pid $pid), RSS $(rss) kB"
dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -l 10 -c 4 -q 200 >"$work/max.txt"
max=$(awk '/Queries per second/ {print int($4)}' "$work/max.txt")
target=$((max * 8 / 10))
echo "measured maximum: $max queries/s; holding $target queries/s for ${seconds}s"
before=$(rss)
dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries" -l "$seconds" -c 4 -Q "$target" >"$work/soak.txt"
after=$(rss)
grep -E "Queries sent|Queries completed|Queries lost|Queries per second" "$work/soak.txt"
echo "server RSS: $before kB before, $after kB after"
lost=$(awk '/Queries lost/ {print $3}' "$work/soak.txt")
stop_craft
if [ "$lost" != "0" ]; then echo "LOST QUERIES: $lost"; exit 1; fi
echo "soak passed: no lost queries"
