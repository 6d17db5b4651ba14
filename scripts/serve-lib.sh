# Sourced by the demo and soak scripts: start one craft server in the background, learn
# its port from the start-up line, and always stop it (by PID) when the script exits.
# After `start_craft OUT ARGS...`: $pid, $port, and its stderr in "$work/server.err".
work=$(mktemp -d)
pid=""
port=""
stop_craft() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
  pid=""
}
trap 'stop_craft; rm -rf "$work"' EXIT

start_craft() {
  local out=$1
  shift
  craft "$@" --port 0 >"$out" 2>"$work/server.err" &
  pid=$!
  port=""
  for _ in $(seq 100); do
    port=$(grep -oP '127\.0\.0\.1:\K[0-9]+' "$work/server.err" | head -n 1 || true)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "craft $* did not start:"; cat "$work/server.err"; exit 1
}
