#!/usr/bin/env bash
# make demo-web: serve site/ and let headless Chromium take the lab report's screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium is missing: run make test (it installs it) or apt-get install chromium"; exit 1; }
craft web-serve --root site --port 0 >"$work/access.log" 2>"$work/server.err" &
pid=$!
port=""
for _ in $(seq 100); do
  port=$(grep -oP '127\.0\.0\.1:\K[0-9]+' "$work/server.err" | head -n 1 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/server.err"; exit 1; }
cat "$work/server.err"
url="http://127.0.0.1:$port/HelloWorld.html"
echo "\$ curl -I $url"
curl -sI "$url"
mkdir -p docs
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --window-size=900,640 --hide-scrollbars \
  --screenshot="$PWD/docs/web-screenshot.png" "$url" 2>/dev/null
echo "saved docs/web-screenshot.png (Chromium rendering $url)"
echo "access log:"
cat "$work/access.log"
