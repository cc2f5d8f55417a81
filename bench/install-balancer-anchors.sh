#!/usr/bin/env bash
# Installs what the balancer benchmarks compare against (HAProxy, nginx) and drive load with (wrk,
# taskset), from Debian packages, when missing. Needs root (apt-get). The packages' system services
# are kept from starting: the benchmarks run their own foreground instances with their own configs.
#   bash bench/install-balancer-anchors.sh
set -euo pipefail

missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v nginx >/dev/null || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-balancer-anchors: haproxy, nginx, wrk and taskset are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-balancer-anchors: missing ${missing[*]}; run as root, or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

# policy-rc.d exiting 101 tells invoke-rc.d not to start services the packages install (Debian's
# documented switch); only ours is removed afterwards, never one the machine already had.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

echo "install-balancer-anchors: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
haproxy -v | head -1
nginx -v
