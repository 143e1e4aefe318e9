#!/usr/bin/env bash
# `make run`: starts the local demo service and probes it (and loopback) every few seconds with
# `leeway check`, so a machine with no internet shows live, changing results. Ctrl-C stops it.
set -euo pipefail
leeway=build/release/leeway
port=${DEMO_PORT:-8081}
"$leeway" demo-target --listen "127.0.0.1:$port" --cycle 120 &
demo=$!
trap 'kill $demo 2>/dev/null' EXIT
sleep 0.5
echo "Probing every 5 s; the demo service turns slow and then down within two minutes. Ctrl-C stops."
while true; do
  echo "--- $(date -u +%H:%M:%SZ)"
  "$leeway" check "http://127.0.0.1:$port/api" --degraded-after 1s --json-pointer /status || true
  "$leeway" check "tcp://127.0.0.1:$port" || true
  "$leeway" check icmp://127.0.0.1 --count 2 || true
  sleep 5
done
