#!/usr/bin/env bash
# Applies .clang-format to every C++ file git tracks (`scripts/format.sh`), or with --check lists
# the files that are not formatted and fails (what `make test` runs first).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [ "${1:-}" = "--check" ]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if [ ${#bad[@]} -gt 0 ]; then
    echo "not formatted (run scripts/format.sh):" "${bad[@]}" >&2
    exit 1
  fi
else
  clang-format -i "${files[@]}"
fi
