#!/usr/bin/env bash
# ICMP echo throughput: leeway vs fping over the same 4,094 loopback targets (127.0.0.0/20), in
# the same run. Each sustains RATE echoes per second for DURATION seconds; we print echoes sent,
# loss, achieved rate and CPU, and the ratio. With CEILING=1 both step through RATES instead
# (DURATION each) and we print, for each, the highest rate it sustained with no loss (sending at
# least 98% of the rate asked for): the ceiling. Loopback only; needs root (raw sockets) or an
# unprivileged ping socket range.
# Usage: bash bench/icmp.sh   (env: RATE, DURATION, BUILD; CEILING=1, RATES="10000 20000 ...")
#
# 2026-12-01, RelWithDebInfo, 2 cores shared with four compiling colleagues (load 6-12: the
# ceilings move between runs). `CEILING=1 DURATION=20 bash bench/icmp.sh`, two runs:
#   leeway's ceiling with zero loss 10,000/s (4.1% lost at 20,000) and 30,000/s (all rates up to
#   30,000 clean), 11-14 ms of CPU per 1,000 echoes; fping below 1,000/s (907/s asked 1,000, no
#   loss: on this machine it keeps ~0.6 ms between packets whatever -i asks).
# RATE=30000 with the old script: no bc error here as root, but fping sent 6,114/s while the
# ratio line compared it with leeway's 30,000 as if both had run at the rate. Values now come
# from awk (0.033, not bc's .033) and an fping that sends nothing stops the script with its message.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
RATE=${RATE:-10000}
CEILING=${CEILING:-0}
RATES=${RATES:-"10000 20000 30000 40000 60000 80000 120000"}
DURATION=${DURATION:-$([ "$CEILING" = 1 ] && echo 10 || echo 60)}
driver=$BUILD/bench/icmp_driver
[ -x "$driver" ] || { echo "build first: make build"; exit 1; }
command -v fping >/dev/null || { echo "needs fping: bash scripts/deps.sh --bench"; exit 1; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }  # awk, not bc: no ".5" without its 0, no wrapping

# leeway at $1 echoes per second: sets o_sent, o_recv, o_rate, o_cpu, o_loss.
run_leeway() {
  local out
  out=$("$driver" --rate "$1" --duration "$DURATION")
  o_sent=$(echo "$out" | field sent); o_recv=$(echo "$out" | field received)
  o_rate=$(echo "$out" | field rate_per_s); o_cpu=$(echo "$out" | field cpu_s)
  o_loss=$(echo "$out" | field loss_pct)
  [ -n "$o_sent" ] && [ -n "$o_cpu" ] || { echo "icmp_driver said: $out"; exit 1; }
  o_line="$out"
}

# fping at $1 echoes per second: each of the 4,094 targets every period_ms, so that together they
# make the rate; -i is the gap between any two packets (fractions of a millisecond need root).
# -c bounds the run to DURATION seconds. After its last echo fping waits for late replies
# min(period, 2 s) (its -t default with -c) and it takes ~0.5 s to start: that tail is left out
# of its rate, as the driver leaves out its own start. Sets f_sent, f_recv, f_rate, f_cpu, f_loss.
run_fping() {
  local targets=4094 period_ms count interval_ms summary start end
  period_ms=$(awk -v t=$targets -v r="$1" 'BEGIN { p = int(t * 1000 / r); print (p < 1 ? 1 : p) }')
  count=$(awk -v d="$DURATION" -v p="$period_ms" 'BEGIN { c = int(d * 1000 / p); print (c < 1 ? 1 : c) }')
  interval_ms=$(awk -v r="$1" 'BEGIN { printf "%.3f", 1000 / r }')
  start=$(date +%s.%N)
  summary=$( { /usr/bin/time -f "cpu_s=%U+%S" fping -q -c "$count" -p "$period_ms" -i "$interval_ms" \
    -g 127.0.0.0/20 ; } 2>&1 || true)
  end=$(date +%s.%N)
  f_sent=$(echo "$summary" | sed -n 's/.*xmt\/rcv\/%loss = \([0-9]*\)\/\([0-9]*\)\/.*/\1/p' | awk '{s += $1} END {print s + 0}')
  f_recv=$(echo "$summary" | sed -n 's/.*xmt\/rcv\/%loss = \([0-9]*\)\/\([0-9]*\)\/.*/\2/p' | awk '{s += $1} END {print s + 0}')
  if [ "$f_sent" = 0 ]; then
    echo "fping -p $period_ms -i $interval_ms sent nothing:"; echo "$summary" | grep -v xmt | head -5; exit 1
  fi
  f_cpu=$(calc "$(echo "$summary" | sed -n 's/^cpu_s=\(.*\)/\1/p')")
  f_wall=$(calc "$end - $start")
  local tail_s
  tail_s=$(awk -v p="$period_ms" 'BEGIN { print (p < 2000 ? p : 2000) / 1000 + 0.5 }')
  f_rate=$(calc "$f_sent / ($f_wall > $tail_s + 0.1 ? $f_wall - $tail_s : 0.1)")
  f_loss=$(calc "100 * ($f_sent - $f_recv) / $f_sent")
}

if [ "$CEILING" != 1 ]; then
  run_leeway "$RATE"
  echo "leeway: $o_line"
  run_fping "$RATE"
  printf 'fping:  sent=%s received=%s loss_pct=%.3f rate_per_s=%.0f wall_s=%.2f cpu_s=%.2f\n' \
    "$f_sent" "$f_recv" "$f_loss" "$f_rate" "$f_wall" "$f_cpu"
  printf 'ratio leeway/fping: echoes per second %.2fx, echoes per CPU-second %.2fx\n' \
    "$(calc "$o_rate / $f_rate")" "$(calc "($o_sent / $o_cpu) / ($f_sent / $f_cpu)")"
  exit 0
fi

# A rate is sustained when nothing was lost and at least 98% of it was sent.
sustained() { awk -v loss="$1" -v rate="$2" -v asked="$3" 'BEGIN { exit !(loss == 0 && rate >= 0.98 * asked) }'; }
o_ceiling=0; f_ceiling=0; o_done=0; f_done=0
printf '%-8s | %-36s | %-36s\n' "rate" "leeway: sent/s loss% cpu-s" "fping: sent/s loss% cpu-s"
for rate in $RATES; do
  o_text="(stopped)"; f_text="(stopped)"
  if [ $o_done = 0 ]; then
    run_leeway "$rate"
    o_text=$(printf '%8.0f %7.3f%% %6.2f' "$o_rate" "$o_loss" "$o_cpu")
    if sustained "$o_loss" "$o_rate" "$rate"; then o_ceiling=$rate; else o_done=1; fi
  fi
  if [ $f_done = 0 ]; then
    run_fping "$rate"
    f_text=$(printf '%8.0f %7.3f%% %6.2f' "$f_rate" "$f_loss" "$f_cpu")
    if sustained "$f_loss" "$f_rate" "$rate"; then f_ceiling=$rate; else f_done=1; fi
  fi
  printf '%-8s | %-36s | %-36s\n' "$rate" "$o_text" "$f_text"
  [ $o_done = 1 ] && [ $f_done = 1 ] && break
done
printf 'ceiling with zero loss (of the rates tried): leeway %s/s, fping %s/s\n' "$o_ceiling" "$f_ceiling"
