#!/usr/bin/env bash
# The agent (issue 9): `leeway agent` running CHECKS http checks at 10 s against nginx on
# loopback, pushing to a real `leeway serve`, and in the same run blackbox_exporter probing the
# same CHECKS targets for Prometheus at 10 s. Figures:
#   memory     resident memory of the agent and of blackbox_exporter, sampled every 5 s over
#              DURATION seconds (median and peak). Goal: the agent at most 20 MB beside
#              blackbox_exporter's.
#   catch-up   the agent stopped, its spool given an hour of results at that rate (CHECKS x 360,
#              written by bench/agent_spool_driver.cpp as the agent writes them), the agent
#              started again: seconds until the server has stored all of them (its
#              leeway_results_written_total). Goal: within 30 s.
#
# Measured 2026-12-01 ~22:40 UTC on the 2-core dev VM at a load average of 2.5 (release build,
# defaults, one run): the agent's RSS median 19.0 MB (peak 19) against blackbox_exporter's
# 22.6 MB (peak 24), 0.84x, 11,998 runs stored in 120 s; an hour offline (360,000 spooled
# results) caught up in 5.2 s (68,636 results/s).
#
# Usage: bash bench/agent_memory.sh   (env: BUILD, CHECKS, DURATION)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
CHECKS=${CHECKS:-1000}
DURATION=${DURATION:-120}
leeway=$BUILD/leeway
filler=$BUILD/bench/agent_spool_driver
[ -x "$leeway" ] && [ -x "$filler" ] ||
  { cmake --preset release >/dev/null && cmake --build --preset release --target leeway agent_spool_driver >/dev/null; }
for tool in prometheus prometheus-blackbox-exporter curl jq python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool: bash scripts/deps.sh --bench"; exit 1; }
done
[ -x /usr/sbin/nginx ] || { echo "needs nginx: bash scripts/deps.sh --bench"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
target_port=$(free_port); api_port=$(free_port); bb_port=$(free_port); prom_port=$(free_port)
token=bench-token-$RANDOM$RANDOM
printf %s "$token" >"$work/token"

cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$target_port;
    location / { return 200 "ok\n"; }
  }
}
EOF
{
  echo "server:"
  echo "  listen: 127.0.0.1:$api_port"
  echo "locations:"
  echo "  - id: bench"
  echo "    token: sha256:$(printf %s "$token" | sha256sum | cut -d' ' -f1)"
  echo "defaults:"
  echo "  interval: 10s"
  echo "  locations: [bench]"
  echo "services:"
  echo "  - id: bench"
  echo "    checks:"
  for i in $(seq 0 $((CHECKS - 1))); do
    echo "      - {name: c$i, target: \"http://127.0.0.1:$target_port/$i\"}"
  done
} >"$work/leeway.yaml"
{
  echo "global: {scrape_interval: 10s, scrape_timeout: 5s}"
  echo "scrape_configs:"
  echo "  - job_name: blackbox"
  echo "    metrics_path: /probe"
  echo "    params: {module: [http_2xx]}"
  echo "    static_configs:"
  echo "      - targets:"
  for i in $(seq 0 $((CHECKS - 1))); do echo "          - http://127.0.0.1:$target_port/$i"; done
  echo "    relabel_configs:"
  echo "      - {source_labels: [__address__], target_label: __param_target}"
  echo "      - {source_labels: [__param_target], target_label: instance}"
  echo "      - {target_label: __address__, replacement: '127.0.0.1:$bb_port'}"
} >"$work/prometheus.yml"
cat >"$work/blackbox.yml" <<EOF
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http: {preferred_ip_protocol: ip4}
EOF

wait_http() {  # URL: up to 30 s for a 200
  for _ in $(seq 300); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "not answering: $1"; exit 1
}
proc_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
written() { curl -sf "http://127.0.0.1:$api_port/metrics" | awk '$1 == "leeway_results_written_total" {print $2}'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
start_agent() {  # extra flags
  "$leeway" agent --server "http://127.0.0.1:$api_port" --location bench --token-file "$work/token" \
    --spool "$work/spool" "$@" >>"$work/agent.log" 2>&1 &
  agent_pid=$!
  pids+=("$agent_pid")
}

/usr/sbin/nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
"$leeway" serve -c "$work/leeway.yaml" --store "$work/leeway.db" >"$work/serve.log" 2>&1 &
pids+=($!)
prometheus-blackbox-exporter --config.file="$work/blackbox.yml" \
  --web.listen-address="127.0.0.1:$bb_port" --log.level=error >"$work/bb.log" 2>&1 &
bb_pid=$!
pids+=("$bb_pid")
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom" \
  --web.listen-address="127.0.0.1:$prom_port" --log.level=error >"$work/prom.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$api_port/healthz"
wait_http "http://127.0.0.1:$bb_port/metrics"
wait_http "http://127.0.0.1:$prom_port/-/ready"
phase_start_us=$(($(date +%s%N) / 1000))
start_agent

echo "memory: $CHECKS http checks at 10 s, ${DURATION}s, sampling every 5 s"
: >"$work/samples"
for ((t = 5; t <= DURATION; t += 5)); do
  sleep 5
  echo "$(proc_kb "$agent_pid" VmRSS) $(proc_kb "$bb_pid" VmRSS)" >>"$work/samples"
done
agent_mb=$(awk '{print $1 / 1024}' "$work/samples" | median)
bb_mb=$(awk '{print $2 / 1024}' "$work/samples" | median)
agent_hwm=$(($(proc_kb "$agent_pid" VmHWM) / 1024))
bb_hwm=$(($(proc_kb "$bb_pid" VmHWM) / 1024))
runs=$(curl -sf "http://127.0.0.1:$api_port/metrics" | awk '$1 ~ /^leeway_check_runs_total/ {n += $2} END {print n + 0}')
printf 'leeway agent        RSS median %6.1f MB, peak %4d MB\n' "$agent_mb" "$agent_hwm"
printf 'blackbox_exporter   RSS median %6.1f MB, peak %4d MB\n' "$bb_mb" "$bb_hwm"
printf 'agent - blackbox    %+.1f MB (goal: at most +20 MB); ratio %.2f; %s runs stored\n' \
  "$(echo "$agent_mb - $bb_mb" | bc -l)" "$(echo "$agent_mb / $bb_mb" | bc -l)" "$runs"

echo "catch-up: an hour offline at that rate"
kill "$agent_pid"
wait "$agent_pid" 2>/dev/null || true
"$filler" --spool "$work/spool" --checks "$CHECKS" --end-us "$phase_start_us" >"$work/fill.out"
spooled=$(sed -n 's/^results=//p' "$work/fill.out")
before=$(written)
# The spool is sent oldest first, so the hour is in once the last check's 360 runs of it are.
last="bench%2Fc$((CHECKS - 1))"
hour="from=$((phase_start_us / 1000000 - 3610))&to=$((phase_start_us / 1000000))"
arrived() { curl -sf "http://127.0.0.1:$api_port/api/v1/checks/$last/results?$hour&limit=1000" | jq '.results | length'; }
t0=$(date +%s.%N)
start_agent --spool-max-bytes 1073741824
while [ "$(arrived)" -lt 360 ]; do
  sleep 0.2
  if [ "$(echo "$(date +%s.%N) - $t0 > 300" | bc)" = 1 ]; then
    echo "not caught up after 300 s: $(($(written) - before)) results written of $spooled"; exit 1
  fi
done
secs=$(echo "$(date +%s.%N) - $t0" | bc -l)
printf 'caught up %d spooled results in %.1f s (goal: within 30 s): %.0f results/s; %d written since\n' \
  "$spooled" "$secs" "$(echo "$spooled / $secs" | bc -l)" "$(($(written) - before))"
