#!/usr/bin/env bash
# CPU time per request (user + system, `perf stat -e task-clock` on the server process) of one
# Express route behind each middleware of cpu-cost-server.ts, under wrk load; two rounds.
# Needs perf, wrk and taskset (Debian: linux-perf, wrk, util-linux).
#   bash bench/cpu-per-request.sh                 (all modes)
#   bash bench/cpu-per-request.sh empty tracing   (some)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
node="$here/../node_modules/.bin/node"
for tool in perf wrk taskset; do
  command -v "$tool" >/dev/null || { echo "cpu-per-request: $tool is not installed" >&2; exit 1; }
done
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(bare empty als request-id tracing)
stats=$(mktemp)
trap 'rm -f "$stats"' EXIT
for round in 1 2; do
  for mode in "${modes[@]}"; do
    coproc SERVER { exec taskset -c 0 "$node" "$here/cpu-cost-server.ts" "$mode"; }
    server_pid=$SERVER_PID
    read -r line <&"${SERVER[0]}"
    port=${line#port }
    url="http://127.0.0.1:$port"
    taskset -c 1 wrk -t1 -c64 -d2s -s "$here/items.lua" "$url" >/dev/null
    perf stat -e task-clock -p "$server_pid" -o "$stats" -- sleep 4 &
    perf_pid=$!
    requests=$(taskset -c 1 wrk -t1 -c64 -d4s -s "$here/items.lua" "$url" | awk '/requests in/ {print $1}')
    wait "$perf_pid"
    clock_ms=$(awk '/task-clock/ {gsub(",", "", $1); print $1}' "$stats")
    printf 'round %d  %-10s %8d requests  %6.2f us CPU per request\n' "$round" "$mode" "$requests" \
      "$(echo "$clock_ms * 1000 / $requests" | bc -l)"
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  done
done
