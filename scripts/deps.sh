#!/usr/bin/env bash
# Installs what building, testing and benchmarking leeway needs on Debian 12.
# Idempotent and quiet: prints nothing when everything is already there.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config make git openssl clang-format
  libboost-dev libboost-system-dev libcurl4-openssl-dev libc-ares-dev libre2-dev libssl-dev
  libsqlite3-dev sqlite3 libpq-dev libpqxx-dev postgresql
  libyaml-cpp-dev nlohmann-json3-dev libsimdjson-dev libcli11-dev libspdlog-dev libfmt-dev libhowardhinnant-date-dev
  libgtest-dev libgmock-dev libbenchmark-dev iproute2 iputils-ping nftables curl jq
  prometheus  # promtool: the oracle of tests/slo/oracle_test.cpp
)
case "${1:-}" in
  --bench) packages+=(nginx-light prometheus-blackbox-exporter fping procps bc python3 time wrk) ;;
  --fuzz) packages+=(clang-14 libclang-rt-14-dev) ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
