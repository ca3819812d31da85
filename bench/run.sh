#!/usr/bin/env bash
# The benchmark, in one command: bench/run.sh [-runs 21] [-commits 10000] [-keep]
# Builds the binary as the Dockerfile does, measures it against curl and
# git log | grep on this machine, prints the ratios and PASS/FAIL per target,
# and exits 1 when a target is missed. See bench/main.go.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v git >/dev/null 2>&1 || missing+=(git)
[ -x /usr/bin/time ] || missing+=(time) # GNU time: the peak RSS of a command
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bench: needs ${missing[*]} on PATH; install them (as root, bench/run.sh does it with apt-get)" >&2
    exit 2
  fi
fi
exec go run ./bench "$@"
