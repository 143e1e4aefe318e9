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
# them to the tracker, with forget() every simulated minute keeping what the tracker keeps (an hour
# until 2026-12-02, 10 minutes since: older results are read back from the store when needed).
# One service in a hundred fails everywhere for two minutes (minute 3); every check fails behind
# the two-vantage ISP for a minute (minute 6); that ISP's vantages fall silent for a minute
# (minute 13, past the reopen window: new incidents), so incidents open, attribute and resolve.
# Figures:
#   results per CPU-second fed (and per wall second), beside the rate needed to keep up (without
#   the driver's own incidents() reads while it waits for verdicts);
#   resident memory the detector holds after the run (RSS growth, MB);
#   a late result: REPLAYS results, each 30 simulated minutes back in one service's history
#   (or half the run when shorter), each rewinds that service's replay; the time of that add()
#   (median and max, ms);
#   fault to verdict, per fault and service hit: from the fault's first failing result in that
#   service (for the silence, the first result that did not come) to the first timeline event
#   with the expected verdict (service; network:kt; network:kt), in result time (s, intervals),
#   and the wall time from feeding the one-second batch that held the deciding result to the
#   verdict being out (that add(), then incidents() as the tracker's sync() reads it).
#
# Measured 2026-12-01 21:18-21:37 UTC on the 2-core dev VM at a load average of 3-6 from other
# builds (RelWithDebInfo), beside the code before the series were indexed (main at f40e5d6) in
# the same session:
#   10,000 checks x 5 (the goal's scale), 10 minutes (3,000,000 results), median of 3 runs:
#     203,526 results per CPU-second (197,973 per wall second; 5,000 needed), so it needs 2.5% of
#     a core, 0.25% per 1,000 checks; 88 MB held; 13 ms (max 25) to replay a service after a
#     late result. 1 minute, one run each: 365,422 results per CPU-second against the old
#     code's 2,968 (123x; it spent 101 s of CPU on 60 simulated seconds: it did not keep up).
#   1,000 checks x 5, 10 minutes, median of 3 runs: 254,668 results per CPU-second against the
#     old code's 16,926 (15x); a late result's replay 8.8 ms against 130 ms (15x); 8.9 MB held
#     against 21 MB.
#   An hour kept, as the tracker keeps it: at 1,000 x 5 for 60 minutes a late result 30 minutes
#     back replays its service in 27 ms (old code: 778 ms, 29x); at 10,000 x 5 for 70 minutes
#     (21,000,000 results, forget() dropping past the hour): 311,410 results per CPU-second,
#     36 ms (max 71) per late result, and 432 MB held (1,325 MB with a std::map per series).
# Why it keeps up now: a batch replays only the services it touched, through their own series
# (indexed by service, and by location for reference results), and a step takes again only the
# quorum of the check it reports, or of a check one of whose locations has just fallen silent.
# Memory is the larger cost at this scale: 432 MB for the hour at 10,000 x 5, about 24 bytes a
# result of which a result is 16 (the rest mostly the series vectors' spare capacity: they grow
# by doubling).
#
# detector2 branch, 2026-12-01 22:13-22:16 UTC, load average 3.6-4.6 from other builds
# (RelWithDebInfo), old (main at 3cb78e8) then new in the same session: add() finds a result's
# series, service and reference watchers with one hash lookup by (check, location) (std::map
# lookups by strings before), and a replay keeps each series' check and location state.
#   10,000 x 5, 10 minutes, median of 3: 294,051 results per CPU-second against 251,938 (1.17x);
#     a late result's replay 11.8 ms (max 24) against 18.5 ms (max 32); 89 MB held against 88.
#   10,000 x 5, 2 minutes (no incident yet), median of 3: 488,584 against 388,468 (1.26x).
# Incidents were checked identical, old and new, by a hash of every incident's document (and
# has_open, references) each simulated minute over six stream shapes (shuffled, late,
# duplicate and unknown results, reference checks, changes; a throw-away driver patch).
# Next (perf of this driver): quorum_state()'s std::map of networks per step (tally, ~20% with
# its string compares), then the (check, location) hash lookup itself (~20%: cache misses over
# 50,000 series; a batch touches them in no order).
#
# resolve branch, 2026-12-02 00:39-00:46 UTC, load average 6.4-9.5 from other benchmarks and
# builds (RelWithDebInfo), 10,000 x 5 for 15 minutes (4,380,000 results), median of 3 runs:
#   fault to verdict, in result time, the same in every run:
#     service down everywhere (10 services): `service` 10.1 s after its first failing result
#       (1.01 intervals: the second failure confirms it, the verdict waits for the service's
#       last check to report, 0.07 s later);
#     ISP kt failing (1,000 services): `network:kt` after 10.1 s (1.01 intervals), at most
#       20.0 s (2.00): a service whose checks' phases straddle the interval's start counts from
#       its earliest check, and its last is confirmed an interval later;
#     ISP kt silent (1,000 services): `network:kt` after 30.0 s (3.00 intervals), but every one
#       first read `unknown`, at 20.0 s: a location is silent 3 intervals after its last result
#       (2 after the first missing one); the verdict is taken as soon as the service's first
#       check finds kt silent, while its other checks still count kt's last results as up
#       (falling silent is not a change of state that a verdict waits to settle on, as a location
#       down is); right once every check has found it, at 30 s.
#   processing, wall, from feeding the deciding second (about 5,000 results) to the verdict out:
#     service 18.0 ms (max 21.8; add() 17.4); ISP 175 ms (max 194; add() 163); silence 171 ms
#     (max 237; add() 119). With every service in an incident, a step assembles the evidence of
#     its service's checks at every result, so a second of results takes ~10x longer than
#     in calm (still ~30,000 results a second of wall time at this load, 6x the probes' rate);
#     incidents() copies every incident with its timeline, 10-50 ms with 1,000 open.
#   fed: 248,065 results per CPU-second (122,507 per wall second at this load); 151 MB held;
#     a late result's replay 35.7 ms (max 72.9). 10 minutes, as the runs above: 269,351 per
#     CPU-second, 92 MB. Old (main at 1369c1a, resolution at the last success) and new run
#     alternately, 15 minutes, one each x3: 263,623 against 278,519 per CPU-second (median; the
#     spread 261-280k is the load's), 149.5 MB against 150.9 (32 bytes more per series: three
#     times in a location's state, one in its report).
#   Again at 00:49 (load 5.1), one run, with a return from silence unsettling the verdict: the
#     same result times; processing 6.0 ms (service), 84 ms (ISP) and 100 ms (silence) at this
#     lower load, so the wall times above are half the load's.
#
# 2026-12-02 01:35 UTC, load average ~5 (RelWithDebInfo), 10,000 x 5 for 30 minutes, one run,
# forgetting as the tracker now does (10 minutes kept; older results read back from its store):
#   338,255 results per CPU-second; a late result's replay 2.70 ms (max 3.05); fault to verdict
#   as above. Memory: 77.6 MB held at the end (allocator bytes in use), against 250.2 MB of
#   resident growth, which is the peak: while the faults kept every service's incident open or
#   within its reopen window, nothing was forgotten, and the heap keeps what was freed.
#   (forget() now gives back a series' spare capacity; before it, an hour kept held 432 MB.)
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
MINUTES=${MINUTES:-15}
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
printf 'memory:   %10.1f MB resident growth (the peak: freed memory stays in the heap), %.1f MB held at the end\n' \
  "$(stat rss_mb)" "$(stat heap_mb)"
printf 'late:     %10.2f ms to replay a service after a late result (median; max %.2f)\n' \
  "$(stat replay_ms)" "$(stat replay_max_ms)"
# Fault to verdict: per fault, the services it hit, how many reached the expected verdict and
# which first verdicts were another (the first run's counts), then the medians over the runs of
# each run's median and maximum.
for f in service isp silent; do
  first() { head -1 "$out" | field "${f}_$1"; }
  printf '%-8s  %s services hit, %s reached %s (%s without); first verdicts that were another: %s\n' \
    "$f:" "$(first services)" "$(first expected)" \
    "$(case $f in service) echo service ;; *) echo network:kt ;; esac)" "$(first none)" \
    "$(first first_other)"
  printf '          verdict %.1f s (%.2f intervals) after its first failing (silent: missing) result (max %.1f s, %.2f intervals; the first, whichever, %.1f s);\n' \
    "$(stat "${f}_verdict_s")" "$(stat "${f}_verdict_intervals")" "$(stat "${f}_verdict_max_s")" \
    "$(stat "${f}_verdict_max_intervals")" "$(stat "${f}_first_s")"
  printf '          out %.2f ms after the batch with the deciding result was fed (max %.2f), of which\n' \
    "$(stat "${f}_out_ms")" "$(stat "${f}_out_max_ms")"
  printf '          add() %.2f ms, incidents() the rest\n' "$(stat "${f}_add_ms")"
done
