#!/usr/bin/env bash
# A small internet in network namespaces, to watch leeway tell "us" from "the network" (README,
# "Vantage points and incidents"; tests/e2e/multi_isp_test.sh runs it in `make test`). As root.
#
#   target (10.99.0.1 web, 10.99.0.53 DNS)       server (10.98.0.1 leeway serve,
#        |            |            |                     10.98.0.80 a reference site)
#       kt           skb          lgu  <- three ISP routers, each linked to target and server
#      /   \          |            |
#   kt-1   kt-2     skb-1        lgu-1  <- vantages: leeway agents, resolving through 10.99.0.53
#
# The server is reachable only through the ISPs, like a data centre seen from its customers.
#
#   bash scripts/testbed.sh up              build it (again: it is torn down first)
#   bash scripts/testbed.sh down            remove every namespace it made
#   bash scripts/testbed.sh exec NODE CMD.. run CMD inside NODE (target, server, kt, kt-1, ...)
#   bash scripts/testbed.sh cut ISP         the ISP drops everything (its vantages fall silent)
#   bash scripts/testbed.sh block ISP       the ISP drops only traffic to and from the target
#   bash scripts/testbed.sh loss ISP PCT    the ISP drops PCT% of what it forwards, at random
#   bash scripts/testbed.sh heal ISP        undoes cut, block and loss
#   bash scripts/testbed.sh unplug VANTAGE  the vantage's own uplink goes down
#   bash scripts/testbed.sh plug VANTAGE    and comes back
#
# Namespaces are named "$TESTBED-<node>" (TESTBED defaults to "lw"), so two test beds can live
# side by side. Loss is made with nftables' numgen: this kernel has no netem.
set -euo pipefail

prefix=${TESTBED:-lw}
isps=(kt skb lgu)
vantages=(kt-1 kt-2 skb-1 lgu-1)

ns() { echo "$prefix-$1"; }
in_ns() {
  local node=$1
  shift
  ip netns exec "$(ns "$node")" "$@"
}
isp_index() {
  case $1 in kt) echo 1 ;; skb) echo 2 ;; lgu) echo 3 ;; *)
    echo "testbed: unknown ISP \"$1\" (kt, skb, lgu)" >&2
    exit 2
    ;;
  esac
}
vantage_isp() { echo "${1%-*}"; }
vantage_index() { echo "${1##*-}"; }
is_vantage() { [[ " ${vantages[*]} " == *" $1 "* ]] || {
  echo "testbed: unknown vantage \"$1\" (${vantages[*]})" >&2
  exit 2
}; }

# Routes, (re)applied after anything that may have removed them (a link going down drops its).
routes() {
  local isp i v j
  for isp in "${isps[@]}"; do
    i=$(isp_index "$isp")
    in_ns "$isp" ip route replace 10.99.0.0/24 via "10.20.$i.2"
    in_ns "$isp" ip route replace 10.98.0.0/24 via "10.30.$i.2"
    in_ns target ip route replace "10.1$i.0.0/16" via "10.20.$i.1"
    in_ns server ip route replace "10.1$i.0.0/16" via "10.30.$i.1"
  done
  for v in "${vantages[@]}"; do
    i=$(isp_index "$(vantage_isp "$v")")
    j=$(vantage_index "$v")
    in_ns "$v" ip route replace default via "10.1$i.$j.1"
  done
}

# link NODE_A IF_A ADDR_A NODE_B IF_B ADDR_B: a veth pair between two namespaces, both ends up.
link() {
  ip link add name "$2" netns "$(ns "$1")" type veth peer name "$5" netns "$(ns "$4")"
  in_ns "$1" ip addr add "$3/24" dev "$2"
  in_ns "$1" ip link set "$2" up
  in_ns "$4" ip addr add "$6/24" dev "$5"
  in_ns "$4" ip link set "$5" up
}

down() {
  local node
  for node in target server "${isps[@]}" "${vantages[@]}"; do
    ip netns pids "$(ns "$node")" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$(ns "$node")" 2>/dev/null || true
    rm -rf "/etc/netns/$(ns "$node")"
  done
}

up() {
  down
  local node isp i v j
  for node in target server "${isps[@]}" "${vantages[@]}"; do
    ip netns add "$(ns "$node")"
    in_ns "$node" ip link set lo up
  done
  in_ns target ip addr add 10.99.0.1/32 dev lo
  in_ns target ip addr add 10.99.0.53/32 dev lo
  in_ns server ip addr add 10.98.0.1/32 dev lo
  in_ns server ip addr add 10.98.0.80/32 dev lo
  for isp in "${isps[@]}"; do
    i=$(isp_index "$isp")
    in_ns "$isp" sysctl -qw net.ipv4.ip_forward=1
    link "$isp" to-target "10.20.$i.1" target "via-$isp" "10.20.$i.2"
    link "$isp" to-server "10.30.$i.1" server "via-$isp" "10.30.$i.2"
  done
  for v in "${vantages[@]}"; do
    isp=$(vantage_isp "$v")
    i=$(isp_index "$isp")
    j=$(vantage_index "$v")
    link "$isp" "to-$v" "10.1$i.$j.1" "$v" uplink "10.1$i.$j.2"
    # `ip netns exec` mounts this over /etc/resolv.conf: the vantages ask the target's server.
    mkdir -p "/etc/netns/$(ns "$v")"
    echo "nameserver 10.99.0.53" >"/etc/netns/$(ns "$v")/resolv.conf"
  done
  routes
}

# An nftables table of the ISP's, named for what it does; replaced if it exists.
isp_rule() {
  local isp=$1 table=$2 rule=$3
  in_ns "$isp" nft delete table inet "$table" 2>/dev/null || true
  in_ns "$isp" nft add table inet "$table"
  in_ns "$isp" nft "add chain inet $table forward { type filter hook forward priority 0; }"
  in_ns "$isp" nft "add rule inet $table forward $rule"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  exec)
    shift
    node=$1
    shift
    in_ns "$node" "$@"
    ;;
  cut) isp_index "$2" >/dev/null && isp_rule "$2" cut "drop" ;;
  block) isp_index "$2" >/dev/null && isp_rule "$2" block "ip daddr 10.99.0.0/24 drop" &&
    in_ns "$2" nft add rule inet block forward ip saddr 10.99.0.0/24 drop ;;
  loss)
    isp_index "$2" >/dev/null
    [[ "${3:-}" =~ ^[0-9]+$ && $3 -le 100 ]] || {
      echo "testbed: loss ISP PCT: PCT is 0 to 100, got \"${3:-}\"" >&2
      exit 2
    }
    isp_rule "$2" loss "numgen random mod 100 < $3 drop"
    ;;
  heal)
    isp_index "$2" >/dev/null
    for table in cut block loss; do in_ns "$2" nft delete table inet "$table" 2>/dev/null || true; done
    ;;
  unplug) is_vantage "$2" && in_ns "$2" ip link set uplink down ;;
  plug) is_vantage "$2" && in_ns "$2" ip link set uplink up && routes ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
    ;;
esac
