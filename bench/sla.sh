#!/usr/bin/env bash
# The SLA engine: a month's report for one contract over SERVICES services with
# CHECKS_PER_SERVICE checks each and INCIDENTS incidents, plus 100 maintenance windows (some
# announced too late), 20 manual exclusions and 100 reclassifications (bench/sla_driver.cpp);
# then each renderer over that report. Figures: the median wall time per report and the CPU per
# report, over 20 passes.
#
# Then the same month through the stores, as `leeway report` gets it: written into a new SQLite
# file (1,000 incidents with documents and acks, the windows, exclusions and reclassifications,
# each check's first results at 6 locations), and report::monthly_report, the function the API
# calls, timed from there: provisional in each format, then closed (frozen once, served frozen).
# The contract measures only the minutes a service existed, so the report reads results too.
#
# No peer: no monitoring product computes SLA penalties per incident grade, credits and
# exclusions (issue 11), so nothing runs beside it. The goal of issue 11 is absolute: well under
# a second for 100 services, 10,000 checks and 1,000 incidents.
#
# Measured 2026-12-02 on the 2-core dev VM (release preset) under a load average of about 7
# from other builds, one run:
#   engine       report 11.4 ms median (11.2 ms CPU): 976 incidents listed, 413 unavailable and
#                500 excluded minute ranges; render md 10.6 ms (10.4 ms CPU, 311 KiB), html 8.3
#                ms (9.4 ms CPU, 460 KiB), csv 5.5 ms (5.0 ms CPU, 194 KiB), json 14.2 ms (11.0
#                ms CPU, 1.7 MiB; 416 ms and 134 ms CPU as a tree of nlohmann maps, 2026-12-01)
#   stores       read 226 ms (205 ms CPU: ~1,850 queries, an incident's acks and its
#                reclassifications one query each), convert and compute 66 ms (62 ms CPU)
#   monthly_report, end to end: md 259 ms (259 ms CPU), html 222 ms (230 ms CPU), csv 257 ms
#                (231 ms CPU), json 196 ms (198 ms CPU); closed, first (frozen in 4 formats)
#                240 ms (227 ms CPU); closed, served frozen 218 ms (205 ms CPU)
# The goal holds: about 0.25 s for the report as the API serves it. Before, the services'
# first minutes read every rollup of the month of every check (10,000 queries; 4.4 s of CPU
# with only 5 minutes stored per check, and growing with the month's minutes); they are now
# looked for in doubling windows from the lookback's start (one query per service that existed).
# Next: the per-incident queries (acks, reclassifications) as one query per service.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVICES=${SERVICES:-100}
CHECKS_PER_SERVICE=${CHECKS_PER_SERVICE:-100}
INCIDENTS=${INCIDENTS:-1000}
driver=build/release/bench/sla_driver
[ -x "$driver" ] || { cmake --preset release >/dev/null && cmake --build --preset release --target sla_driver >/dev/null; }

store=$(mktemp -d)
trap 'rm -rf "$store"' EXIT
"$driver" --services "$SERVICES" --checks-per-service "$CHECKS_PER_SERVICE" \
  --incidents "$INCIDENTS" --passes 20 --store "$store/sla.db"
