#!/usr/bin/env bash
# `make run`: the local demo service (healthy, slow and down in turns) plus `leeway serve` on
# SQLite with examples/quickstart.yaml, so a machine with no internet shows live, changing data.
# Ctrl-C stops both; every result is written before leeway exits.
set -euo pipefail
leeway=build/release/leeway
"$leeway" demo-target --listen 127.0.0.1:8081 --cycle 120 &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
cat <<'MSG'
leeway is starting on http://127.0.0.1:8080/ with examples/quickstart.yaml (results in ./leeway.db).
Try, in another terminal:
  build/release/leeway status                       # every check, its last result, 24 h availability
  curl -s http://127.0.0.1:8080/api/v1/checks       # the same as JSON
  curl -s 'http://127.0.0.1:8080/api/v1/checks/demo-shop%2Fapi/results?limit=5'
  curl -s http://127.0.0.1:8080/metrics             # Prometheus metrics
  build/release/leeway check http://127.0.0.1:8081/api --degraded-after 1s
Edit examples/quickstart.yaml and run `kill -HUP $(pgrep -f 'leeway serve')` to reload it.
MSG
"$leeway" serve -c examples/quickstart.yaml
