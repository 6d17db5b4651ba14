#!/usr/bin/env bash
# make demo-web: serve site/ and let headless Chromium take the lab report's screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/serve-lib.sh
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium is missing: run make test (it installs it) or apt-get install chromium"; exit 1; }
start_craft "$work/access.log" web-serve --root site
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
