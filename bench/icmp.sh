#!/usr/bin/env bash
# ICMP echo throughput: leeway vs fping over the same 4,094 loopback targets (127.0.0.0/20), in
# the same run. Each sustains RATE echoes per second for DURATION seconds; we print echoes sent,
# loss, achieved rate and CPU, and the ratio. Loopback only; needs root (raw sockets) or an
# unprivileged ping socket range. Usage: bash bench/icmp.sh   (env: RATE, DURATION, BUILD)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
RATE=${RATE:-10000}
DURATION=${DURATION:-60}
driver=$BUILD/bench/icmp_driver
[ -x "$driver" ] || { echo "build first: make build"; exit 1; }
command -v fping >/dev/null || { echo "needs fping: bash scripts/deps.sh --bench"; exit 1; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

ours=$("$driver" --rate "$RATE" --duration "$DURATION")
echo "leeway: $ours"

# fping: each of the 4,094 targets every period_ms, so that together they make RATE per second;
# -i is the gap between any two packets. -c bounds the run to DURATION seconds.
targets=4094
period_ms=$(echo "$targets * 1000 / $RATE" | bc)
count=$(echo "$DURATION * 1000 / $period_ms" | bc)
interval_ms=$(echo "scale=3; 1000 / $RATE" | bc)
start=$(date +%s.%N)
summary=$( { /usr/bin/time -f "cpu_s=%U+%S" fping -q -c "$count" -p "$period_ms" -i "$interval_ms" -g 127.0.0.0/20 ; } 2>&1 || true)
end=$(date +%s.%N)
f_sent=$(echo "$summary" | sed -n 's/.*xmt\/rcv\/%loss = \([0-9]*\)\/\([0-9]*\)\/.*/\1/p' | paste -sd+ | bc)
f_recv=$(echo "$summary" | sed -n 's/.*xmt\/rcv\/%loss = \([0-9]*\)\/\([0-9]*\)\/.*/\2/p' | paste -sd+ | bc)
f_cpu=$(echo "$summary" | sed -n 's/^cpu_s=\(.*\)/\1/p' | bc)
f_wall=$(echo "$end - $start" | bc)
f_rate=$(echo "$f_sent / $f_wall" | bc -l)
f_loss=$(echo "100 * ($f_sent - $f_recv) / $f_sent" | bc -l)
printf 'fping:  sent=%s received=%s loss_pct=%.3f rate_per_s=%.0f wall_s=%.2f cpu_s=%s\n' \
  "$f_sent" "$f_recv" "$f_loss" "$f_rate" "$f_wall" "$f_cpu"

o_rate=$(echo "$ours" | field rate_per_s); o_cpu=$(echo "$ours" | field cpu_s); o_sent=$(echo "$ours" | field sent)
printf 'ratio leeway/fping: echoes per second %.2fx, echoes per CPU-second %.2fx\n' \
  "$(echo "$o_rate / $f_rate" | bc -l)" "$(echo "($o_sent / $o_cpu) / ($f_sent / $f_cpu)" | bc -l)"
