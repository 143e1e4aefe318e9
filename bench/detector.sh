#!/usr/bin/env bash
# The incident detector (src/incident/detector.h) at issue 9's scale: 10,000 checks x 5
# locations every 10 s, that is 5,000 results a second to keep up with. No peer runs a detector
# of this kind (blackbox_exporter, Uptime Kuma and Gatus have none: an alert rule per target is
# the nearest), so this bench has no ratio; it prints leeway's own figures against the rate the
# probes make.
#
# The stream (bench/detector_driver.cpp): CHECKS checks, SERVICE_CHECKS to a service, at
# LOCATIONS locations (the first two behind one ISP), every INTERVAL_S seconds for MINUTES
# simulated minutes, fed one second of results per Detector::add() as the results stream hands
# them to the tracker, with forget() every simulated minute (an hour kept, as the tracker does).
# One service in a hundred fails everywhere for two minutes; every check fails behind the
# two-vantage ISP for a minute, so incidents open, attribute and resolve. Figures:
#   results per CPU-second fed (and per wall second), beside the rate needed to keep up;
#   resident memory the detector holds after the run (RSS growth, MB);
#   a late result: REPLAYS results, each 30 simulated minutes back in one service's history
#   (or half the run when shorter), each rewinds that service's replay; the time of that add()
#   (median and max, ms).
#
# Measured 2026-12-01 21:18-21:28 UTC on the 2-core dev VM at a load average of 3-6 from other
# builds (RelWithDebInfo), beside the code before the series were indexed (main at f40e5d6) in
# the same session:
#   10,000 checks x 5 (the goal's scale), 10 minutes (3,000,000 results), median of 3 runs:
#     234,309 results per CPU-second (158,982 per wall second; 5,000 needed), so it needs 2.1% of
#     a core, 0.2% per 1,000 checks; 222 MB held; 18 ms (max 33) to replay a service after a
#     late result. 1 minute, one run each: 423,652 results per CPU-second against the old
#     code's 2,968 (143x; it spent 101 s of CPU on 60 simulated seconds: it did not keep up).
#   1,000 checks x 5, 10 minutes, median of 3 runs: 268,018 results per CPU-second against the
#     old code's 16,218 (16.5x); a late result's replay 9.7 ms against 169 ms (17x); 22 MB held.
#   An hour kept, as the tracker keeps it: at 1,000 x 5 for 60 minutes a late result 30 minutes
#     back replays its service in 31 ms (old code: 778 ms); at 10,000 x 5 for 70 minutes
#     (21,000,000 results, forget() dropping past the hour): 311,239 results per CPU-second,
#     33 ms (max 60) per late result, and 1,325 MB held.
# Why it keeps up now: a batch replays only the services it touched, through their own series
# (indexed by service, and by location for reference results), and a step takes again only the
# quorum of the check it reports, or of a check one of whose locations has just fallen silent.
# Next: memory. An hour at 10,000 x 5 holds 1.3 GB, about 75 bytes a result, most of it a
# 64-byte std::map node per result; a time-ordered vector per series (results mostly arrive in
# order) would hold a quarter of it. Then the CPU left: quorum_state()'s map of networks per
# step, and add()'s lookups by (check, location) strings.
#
# Usage: bash bench/detector.sh   (env: BUILD, RUNS, CHECKS, LOCATIONS, SERVICE_CHECKS,
#        INTERVAL_S, MINUTES, REPLAYS)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/release}
RUNS=${RUNS:-3}
CHECKS=${CHECKS:-10000}
LOCATIONS=${LOCATIONS:-5}
SERVICE_CHECKS=${SERVICE_CHECKS:-10}
INTERVAL_S=${INTERVAL_S:-10}
MINUTES=${MINUTES:-10}
REPLAYS=${REPLAYS:-20}
driver=$BUILD/bench/detector_driver
[ -x "$driver" ] || { echo "build first: cmake --build --preset release --target detector_driver"; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$RUNS"); do
  "$driver" --checks "$CHECKS" --locations "$LOCATIONS" --service-checks "$SERVICE_CHECKS" \
    --interval-s "$INTERVAL_S" --minutes "$MINUTES" --replays "$REPLAYS" >>"$out"
done

field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
stat() { field "$1" <"$out" | median; }
head -1 "$out" | cut -d' ' -f1-7
echo "median of $RUNS runs (no peer: none runs a detector)"
printf 'fed:      %10.0f results per CPU-second, %10.0f per second (needed: %.0f per second)\n' \
  "$(stat results_per_cpu_s)" "$(stat results_per_s)" "$(stat needed_per_s)"
printf 'memory:   %10.1f MB resident held by the detector\n' "$(stat rss_mb)"
printf 'late:     %10.2f ms to replay a service after a late result (median; max %.2f)\n' \
  "$(stat replay_ms)" "$(stat replay_max_ms)"
