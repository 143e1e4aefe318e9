#!/usr/bin/env bash
# SLO evaluation: leeway's engine vs Prometheus evaluating the rules of `leeway slo rules`, on
# the same data, in the same run.
#
# The data (bench/slo_driver.cpp): SLOS SLOs (availability over runs, 99.9%, 30-day window, the
# SRE workbook's four alert conditions), each with DAYS days of minutes: 6 runs a minute, one
# failing run in about one hour in ten, a 20-minute outage every 3 days.
#   leeway      the engine loaded with every minute, then a pass every 10 s of simulated time
#               (budget, burn rates over 5m to 3d and 30d, alerts, for every SLO); at each
#               minute's end every SLO gets its new minute and one in ten a late minute 2h back.
#               Figures: ms per pass (median; CPU per pass, steadier on a shared machine).
#   prometheus  PEER_SLOS of the same SLOs written as OpenMetrics counters (runs up and down,
#               one sample a minute) up to now, backfilled with `promtool tsdb
#               create-blocks-from openmetrics`, and Prometheus started on them with the rules,
#               evaluating every 10 s. Figures: the rule groups' evaluation time per pass (sum of
#               prometheus_rule_group_last_duration_seconds) and Prometheus's CPU per pass, over
#               EVAL_SECONDS; scaled to SLOS (rule evaluation is per group, one per SLO).
# Prometheus gets fewer SLOs only to keep the backfill small (about 8 MB of text per SLO).
#
# Goals of issue 10: at most 50 ms per pass for 1,000 SLOs over 30 days, and at least 10 times
# faster than Prometheus on the same rules and data.
#
# Measured 2026-12-01 on the 2-core dev VM (RelWithDebInfo) under a load average of 18 from
# other builds, one run:
#   leeway      1,000 SLOs: 6.41 ms per pass (median of 60; max 14.6), 2.53 ms CPU per pass with
#               the minute's writes; loading 43.2 M minutes 3.0 s, the first pass (settling every
#               hour) 224 ms; 108.8 MB of minutes and hourly sums.
#   prometheus  20 SLOs: 1,737 ms of rule evaluation per pass (868 ms CPU): 87 ms per SLO, most
#               of it the 30d and 3d rate() over 43,200 samples a series, every 10 s. Scaled to
#               1,000 SLOs: 86.9 s per pass, which a 10 s interval cannot hold.
#   ratio       13,553x (17,161x in CPU). Both goals hold. leeway's pass is O(1) per window
#               (running sums over hours, minutes only at the edges); Prometheus rereads every
#               sample of every window at every evaluation.
set -euo pipefail
cd "$(dirname "$0")/.."

SLOS=${SLOS:-1000}
DAYS=${DAYS:-30}
PEER_SLOS=${PEER_SLOS:-20}
EVAL_SECONDS=${EVAL_SECONDS:-60}
PORT=${PORT:-19091}
driver=build/release/bench/slo_driver
[ -x "$driver" ] || { cmake --preset release >/dev/null && cmake --build --preset release --target slo_driver >/dev/null; }

work=$(mktemp -d)
prom_pid=""
cleanup() {
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== leeway: $SLOS SLOs x $DAYS days of minutes"
"$driver" --slos "$SLOS" --days "$DAYS" --passes 60 | tee "$work/leeway.txt"
leeway_cpu=$(sed -n 's/.*cpu \([0-9.]*\) ms per pass.*/\1/p' "$work/leeway.txt")
leeway_wall=$(sed -n 's/.*pass median \([0-9.]*\) ms.*/\1/p' "$work/leeway.txt")

echo "== prometheus: $PEER_SLOS SLOs x $DAYS days backfilled"
end=$(( $(date +%s) / 60 * 60 ))
"$driver" --slos "$PEER_SLOS" --days "$DAYS" --end "$end" --openmetrics "$work/data.om" \
  --rules "$work/rules.yml"
promtool tsdb create-blocks-from openmetrics --max-block-duration=24h "$work/data.om" \
  "$work/tsdb" >/dev/null
rm "$work/data.om"
cat >"$work/prometheus.yml" <<EOF
global: {evaluation_interval: 10s}
rule_files: [rules.yml]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --storage.tsdb.retention.time=400d --web.listen-address="127.0.0.1:$PORT" \
  >"$work/prometheus.log" 2>&1 &
prom_pid=$!

metric() {  # the sum of a metric's samples on Prometheus's own /metrics
  curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v name="$1" '$1 ~ "^"name"({|$)" {s += $2} END {printf "%.6f\n", s}'
}
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null && break; sleep 0.5; done
sleep 25  # the first evaluations load the blocks
cpu0=$(metric process_cpu_seconds_total)
iter0=$(metric prometheus_rule_group_iterations_total)
group_ms_sum=0
samples=0
for _ in $(seq 1 $(( EVAL_SECONDS / 10 ))); do
  sleep 10
  group_ms_sum=$(echo "$group_ms_sum + $(metric prometheus_rule_group_last_duration_seconds) * 1000" | bc -l)
  samples=$((samples + 1))
done
cpu1=$(metric process_cpu_seconds_total)
iter1=$(metric prometheus_rule_group_iterations_total)
passes=$(echo "($iter1 - $iter0) / $PEER_SLOS" | bc -l)
prom_wall=$(echo "$group_ms_sum / $samples * $SLOS / $PEER_SLOS" | bc -l)
prom_cpu=$(echo "($cpu1 - $cpu0) * 1000 / $passes * $SLOS / $PEER_SLOS" | bc -l)
printf "prometheus: %.1f ms of rule evaluation per pass for %d SLOs (%.1f ms CPU), scaled to %d SLOs: %.0f ms (%.0f ms CPU)\n" \
  "$(echo "$prom_wall * $PEER_SLOS / $SLOS" | bc -l)" "$PEER_SLOS" \
  "$(echo "$prom_cpu * $PEER_SLOS / $SLOS" | bc -l)" "$SLOS" "$prom_wall" "$prom_cpu"
printf "leeway: %.2f ms per pass (%.2f ms CPU) for %d SLOs; ratio %.0fx (CPU %.0fx)\n" \
  "$leeway_wall" "$leeway_cpu" "$SLOS" "$(echo "$prom_wall / $leeway_wall" | bc -l)" \
  "$(echo "$prom_cpu / $leeway_cpu" | bc -l)"
