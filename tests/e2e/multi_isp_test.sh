#!/usr/bin/env bash
# Is it us or the network, end to end: the test bed of scripts/testbed.sh (three ISPs, four
# vantage agents, the shop with its own name server, the server reachable only through the ISPs)
# runs examples/multi-isp.yaml, then breaks six ways. For each, the verdict of the open incident
# and how long after the fault it appeared (checks run every 2 s; the goal is 3 intervals).
#
#   1. ISP kt cut entirely (its agents fall silent and spool)      network:kt
#   2. the shop's web server stopped: service, "nothing deployed"; again after a recorded deploy:
#      the deploy is named
#   3. kt drops only the route to the shop (its agents still reach the server and references)
#                                                                     network:kt
#   4. kt-2's own uplink down (kt-1, behind the same ISP, is fine)   vantage:kt-2
#   5. the shop's name server stopped                                dns
#   6. 30% loss at lgu for a minute: at most one incident
#
# Usage: bash tests/e2e/multi_isp_test.sh PATH_TO_LEEWAY (ctest passes it). Needs root for the
# namespaces; exits 77 (skipped) without it.
set -euo pipefail
leeway=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || {
  echo "skipped: network namespaces need root"
  exit 77
}
for tool in ip nft jq curl; do command -v $tool >/dev/null || {
  echo "needs $tool: bash scripts/deps.sh"
  exit 1
}; done

export TESTBED=lwe$$
interval_s=2
goal_s=$((3 * interval_s))
# A vantage is silent once its last result is incidents.silent_after intervals old; the example
# sets 2, so that a verdict that rests on silence (an ISP cut, a vantage unplugged) can come
# within the goal too.
# Polling the API every 0.25 s, an ASan build and a 2-core CI machine add up to a second to what
# is measured: a verdict is failed only beyond the goal plus this slack (the times are printed).
slack_s=1
work=$(mktemp -d)
pids=()
failures=0

tb() { bash "$src/scripts/testbed.sh" "$@"; }
# Runs a command in a node's namespace.
in_ns() {
  local node=$1
  shift
  ip netns exec "$TESTBED-$node" "$@"
}
# The same, for a command put in the background: `ip netns exec` execs it, so $! is the command
# itself (a shell function in the background would be a subshell, and killing it would not stop
# the command).
ns() { echo "$TESTBED-$1"; }
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  tb down
  if [ "$failures" -ne 0 ]; then
    for log in "$work"/*.log; do
      echo "== $(basename "$log") (last 20 lines)"
      tail -n 20 "$log"
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
now_s() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

api() { in_ns server curl -s -m 5 "$@" "http://10.98.0.1:8080$path"; }
get() { path=$1 api; }
post() {
  path=$1 api -X POST -H "Authorization: Bearer testbed-deploy" -H "Content-Type: application/json" \
    --data "$2"
}
open_incident() { get "/api/v1/incidents?service=shop&state=open" | jq -c '.incidents[0] // empty'; }

# Waits until the open incident's verdict is $1; prints how long it took since $2 (a fault's
# time) and fails the scenario when that is over the goal ($4, default goal_s) or nothing came
# within 60 s.
expect_verdict() {
  local want=$1 fault=$2 scenario=$3 goal_s=${4:-$goal_s} incident verdict=""
  while [ "$(since "$fault" | cut -d. -f1)" -lt 60 ]; do
    incident=$(open_incident)
    verdict=$(jq -r '.verdict // empty' <<<"$incident")
    if [ "$verdict" = "$want" ]; then
      local took
      took=$(since "$fault")
      echo "$scenario: $want after ${took} s (goal ${goal_s} s): $(jq -r .summary <<<"$incident")"
      awk -v t="$took" -v g="$goal_s" -v s="$slack_s" 'BEGIN { exit !(t <= g + s) }' ||
        fail "$scenario: $want came after $took s, over the goal of $goal_s s"
      last_incident=$(jq -r .id <<<"$incident")
      return 0
    fi
    sleep 0.25
  done
  fail "$scenario: expected verdict $want, got \"$verdict\" after 60 s"
}

# Waits until no incident of the shop is open (each scenario starts from a healthy shop).
expect_healed() {
  local start
  start=$(now_s)
  while [ -n "$(open_incident)" ]; do
    if [ "$(since "$start" | cut -d. -f1)" -ge 60 ]; then
      fail "$1: the incident did not resolve within 60 s of healing"
      return
    fi
    sleep 0.5
  done
}

start_agent() {
  ip netns exec "$(ns "$1")" "$leeway" agent --server http://10.98.0.1:8080 --location "$1" \
    --token-file "$work/$1.token" --spool "$work/spool-$1" >>"$work/agent-$1.log" 2>&1 &
  agent_pid[$1]=$!
  pids+=($!)
}

tb up
cd "$work"
start_web() {
  ip netns exec "$(ns target)" "$leeway" demo-target --listen 10.99.0.1:8081 >>web.log 2>&1 &
  web=$!
  pids+=($web)
}
start_web
start_dns() {
  ip netns exec "$(ns target)" "$leeway" demo-target --listen 10.99.0.53:8081 --dns 10.99.0.53:53 \
    --record shop.test=10.99.0.1 >>dns.log 2>&1 &
  dns=$!
  pids+=($dns)
}
start_dns
ip netns exec "$(ns server)" "$leeway" demo-target --listen 10.98.0.80:8081 >office.log 2>&1 &
pids+=($!)
ip netns exec "$(ns server)" "$leeway" serve -c "$src/examples/multi-isp.yaml" >serve.log 2>&1 &
pids+=($!)
declare -A agent_pid
for v in kt-1 kt-2 skb-1 lgu-1; do
  printf %s "testbed-$v" >"$v.token"
  start_agent "$v"
done

# Every vantage reports the shop up.
start=$(now_s)
until [ "$(get /api/v1/checks | jq '[.checks[]? | select(.id == "shop/home") | .last[]? |
          select(.outcome == "up")] | length' 2>/dev/null)" = 4 ]; do
  if [ "$(since "$start" | cut -d. -f1)" -ge 60 ]; then
    fail "baseline: the four vantages did not all see the shop up within 60 s"
    get /api/v1/checks
    exit 1
  fi
  sleep 0.5
done
echo "baseline: all four vantages see the shop up after $(since "$start") s"

# 1. kt cut entirely: its agents can reach neither the shop nor the server.
fault=$(now_s)
cut_from=$(date +%s)
tb cut kt
expect_verdict network:kt "$fault" "1. kt cut" "$goal_s"
sleep 4
tb heal kt
heal_at=$(($(date +%s) + 1))
expect_healed "1. kt cut"
# The spooled results arrived: kt-1's failures from the cut onward are stored at their times.
down_during_cut=$(get "/api/v1/checks/shop%2Fhome/results?location=kt-1&from=$cut_from&to=$heal_at&limit=1000" |
  jq '[.results[]? | select(.outcome != "up")] | length')
[ "${down_during_cut:-0}" -ge 3 ] ||
  fail "1. kt cut: expected kt-1's spooled failures from the cut on, found ${down_during_cut:-none}"
echo "1. kt cut: $down_during_cut failures of kt-1 during the cut arrived from its spool"

# 2. The shop's web server stopped, with nothing deployed; then again after a recorded deploy.
fault=$(now_s)
kill "$web"
expect_verdict service "$fault" "2. web stopped"
get "/api/v1/incidents/$last_incident" | jq -e '.changes.before | length == 0' >/dev/null ||
  fail "2. web stopped: expected no change before the incident"
get "/api/v1/incidents/$last_incident" | jq -r .summary | grep -q "nothing was deployed" ||
  fail "2. web stopped: the summary should say that nothing was deployed"
start_web
expect_healed "2. web stopped"
two_minutes_ago=$(date -u -d '-2 min' +%Y-%m-%dT%H:%M:%SZ)
post /api/v1/changes "{\"service\":\"shop\",\"kind\":\"deploy\",\"description\":\"shop v2.4.1\",\"at\":\"$two_minutes_ago\"}" >/dev/null
fault=$(now_s)
kill "$web"
expect_verdict service "$fault" "2b. web stopped after a deploy"
get "/api/v1/incidents/$last_incident" | jq -r .summary | grep -q "shop v2.4.1" ||
  fail "2b. web stopped after a deploy: the summary should name the deploy"
start_web
expect_healed "2b. web stopped after a deploy"

# 3. kt drops the route to the shop only.
fault=$(now_s)
tb block kt
expect_verdict network:kt "$fault" "3. kt blocks the shop"
tb heal kt
expect_healed "3. kt blocks the shop"

# 4. kt-2's own uplink down.
fault=$(now_s)
tb unplug kt-2
expect_verdict vantage:kt-2 "$fault" "4. kt-2 unplugged" "$goal_s"
tb plug kt-2
expect_healed "4. kt-2 unplugged"

# 5. The name server stopped.
fault=$(now_s)
kill "$dns"
expect_verdict dns "$fault" "5. name server stopped"
start_dns
expect_healed "5. name server stopped"

# 6. 30% loss at lgu for a minute: flapping, at most one incident.
loss_from=$(date -u +%Y-%m-%dT%H:%M:%SZ)
tb loss lgu 30
sleep 60
tb heal lgu
expect_healed "6. lossy lgu"
opened=$(get "/api/v1/incidents?service=shop&from=$loss_from" | jq '.incidents | length')
echo "6. lossy lgu: $opened incident(s) opened in the lossy minute"
[ "$opened" -le 1 ] || fail "6. lossy lgu: $opened incidents opened, expected at most one"

[ "$failures" -eq 0 ] && echo "all scenarios passed"
exit $((failures > 0))
