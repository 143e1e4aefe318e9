#!/usr/bin/env bash
# HTTP probing throughput: leeway vs Prometheus blackbox_exporter, same target, same run.
# Target: nginx on loopback. Every check opens a fresh connection. For each concurrency we run
# COUNT checks with leeway's engine, then COUNT probes through blackbox_exporter's /probe
# endpoint (driven by the same driver, whose own CPU is not counted for blackbox), and compare
# checks per CPU-second (the process doing the probing) and per wall second.
# Loopback only. Usage: bash bench/http.sh   (env: COUNT, CONCURRENCY="1 10 100", BUILD)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
COUNT=${COUNT:-20000}
CONCURRENCY=${CONCURRENCY:-"1 10 100"}
driver=$BUILD/bench/http_driver
[ -x "$driver" ] || { echo "build first: make build"; exit 1; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "needs nginx: bash scripts/deps.sh --bench"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
bb_port=$(free_port)

cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 0;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { return 200 "ok\n"; }
  }
}
NGINX
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)

cat > "$work/blackbox.yml" <<BB
modules:
  http_2xx:
    prober: http
    timeout: 10s
    http:
      preferred_ip_protocol: ip4
BB
prometheus-blackbox-exporter --config.file="$work/blackbox.yml" \
  --web.listen-address="127.0.0.1:$bb_port" --log.level=error >"$work/bb.log" 2>&1 &
bb_pid=$!
pids+=($bb_pid)
sleep 1

target="http://127.0.0.1:$nginx_port/"
# CPU seconds a process has used so far (utime + stime from /proc).
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

printf '%-5s | %-42s | %-42s | %s\n' "conc" "leeway: checks/cpu-s checks/s p50 p99 ok" "blackbox: probes/cpu-s probes/s p50 p99 ok" "ratio (per cpu-s, per s)"
for c in $CONCURRENCY; do
  ours=$("$driver" --url "$target" --count "$COUNT" --concurrency "$c")
  o_cpu=$(echo "$ours" | field cpu_s); o_wall=$(echo "$ours" | field wall_s)
  o_n=$(echo "$ours" | field checks); o_ok=$(echo "$ours" | field ok)

  cpu0=$(proc_cpu "$bb_pid")
  theirs=$("$driver" --url "http://127.0.0.1:$bb_port/probe?module=http_2xx&target=$target" \
    --count "$COUNT" --concurrency "$c" --body-contains "probe_success 1")
  cpu1=$(proc_cpu "$bb_pid")
  t_cpu=$(echo "$cpu1 - $cpu0" | bc -l); t_wall=$(echo "$theirs" | field wall_s)
  t_n=$(echo "$theirs" | field checks); t_ok=$(echo "$theirs" | field ok)

  o_per_cpu=$(echo "$o_n / $o_cpu" | bc -l); o_per_s=$(echo "$o_n / $o_wall" | bc -l)
  t_per_cpu=$(echo "$t_n / $t_cpu" | bc -l); t_per_s=$(echo "$t_n / $t_wall" | bc -l)
  printf '%-5s | %8.0f %8.0f %6sms %6sms %5.1f%% | %8.0f %8.0f %6sms %6sms %5.1f%% | %5.1fx %5.1fx\n' "$c" \
    "$o_per_cpu" "$o_per_s" "$(echo "$ours" | field p50_ms)" "$(echo "$ours" | field p99_ms)" \
    "$(echo "100 * $o_ok / $o_n" | bc -l)" \
    "$t_per_cpu" "$t_per_s" "$(echo "$theirs" | field p50_ms)" "$(echo "$theirs" | field p99_ms)" \
    "$(echo "100 * $t_ok / $t_n" | bc -l)" \
    "$(echo "$o_per_cpu / $t_per_cpu" | bc -l)" "$(echo "$o_per_s / $t_per_s" | bc -l)"
done
echo "(blackbox's CPU is its process only; leeway's is the driver process, which does all the probing)"
