#!/usr/bin/env bash
# All balancer benchmarks in one go (about 4 minutes on 2 cores): installs the anchors (HAProxy,
# nginx, wrk) when missing and we are root, builds readykit-balancer and the example service's
# packages, then runs throughput (+ added latency at half of saturation) and the degraded-backend
# bench. A variant that cannot run is skipped with the reason; a missed target prints FAIL and
# does not change the exit status; request errors do.
#   bash bench/balancer.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root="$here/.."
export PATH="$root/node_modules/.bin:$PATH"

if [ "$(id -u)" -eq 0 ]; then
  bash "$here/install-balancer-anchors.sh"
else
  command -v haproxy >/dev/null && command -v nginx >/dev/null && command -v wrk >/dev/null ||
    echo "balancer.sh: anchors missing; as root run: bash bench/install-balancer-anchors.sh" >&2
fi
(cd "$root" && npx turbo run build --output-logs=errors-only --filter=@readykit/balancer --filter=@readykit/express)

status=0
node "$here/balancer-throughput.ts" --added-latency || status=1
node "$here/balancer-degraded.ts" || status=1
exit "$status"
