#!/usr/bin/env bash
# Fetches jira-cicd's release binary for this runner's OS and architecture,
# checks it against the release's SHA256SUMS, and runs it with this script's
# arguments and environment (the INPUT_* variables binary/action.yml sets).
# A binary whose checksum does not match is deleted and never run.
#
# Environment:
#   JIRA_CICD_RELEASE_URL  where the release's files are (…/releases/download/vX.Y.Z);
#                          https, or http to a loopback host (tests)
#   RUNNER_OS              Linux, macOS or Windows (GitHub sets it)
#   RUNNER_ARCH            X64 or ARM64 (GitHub sets it)
#   RUNNER_TEMP            where to download (GitHub sets it; else TMPDIR or /tmp)
#
# Needs bash, curl or wget, and sha256sum, shasum or openssl: every GitHub-hosted
# runner has them (on Windows, Git Bash's).
set -euo pipefail

fail() {
  # One line, as a GitHub annotation (plain text elsewhere reads the same).
  echo "::error title=jira-cicd binary::$*" >&2
  exit 1
}

base=${JIRA_CICD_RELEASE_URL:-}
[ -n "$base" ] || fail "JIRA_CICD_RELEASE_URL is not set: binary/action.yml names the release to fetch"
base=${base%/}
case "$base" in
  https://*) ;;
  http://127.0.0.1[:/]* | http://localhost[:/]* | http://\[::1\][:/]*) ;; # a local file server (tests)
  *) fail "JIRA_CICD_RELEASE_URL must be an https URL, not $base" ;;
esac

case "${RUNNER_OS:-}" in
  Linux) os=linux ;;
  macOS) os=darwin ;;
  Windows) os=windows ;;
  *) fail "RUNNER_OS '${RUNNER_OS:-}' is not one jira-cicd has a binary for (Linux, macOS, Windows)" ;;
esac
case "${RUNNER_ARCH:-}" in
  X64) arch=amd64 ;;
  ARM64) arch=arm64 ;;
  *) fail "RUNNER_ARCH '${RUNNER_ARCH:-}' is not one jira-cicd has a binary for (X64, ARM64)" ;;
esac
name="jira-cicd-$os-$arch"
[ "$os" = windows ] && name="$name.exe"

tmp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
if command -v cygpath >/dev/null 2>&1; then tmp=$(cygpath -u "$tmp"); fi # Git Bash on Windows
dir=$(mktemp -d "$tmp/jira-cicd.XXXXXX")

fetch() { # fetch URL FILE
  local msg
  if command -v curl >/dev/null 2>&1; then
    # https only, redirects included (GitHub redirects release downloads);
    # plain http only to the loopback server checked above.
    local proto='=https'
    case "$1" in http://*) proto='=http' ;; esac
    msg=$(curl -fsSL --retry 3 --connect-timeout 20 --max-time 300 --proto "$proto" --proto-redir "$proto" \
      -o "$2" "$1" 2>&1) || fail "could not download $1: ${msg//$'\n'/ }"
  elif command -v wget >/dev/null 2>&1; then
    msg=$(wget -q --tries=3 --timeout=60 -O "$2" "$1" 2>&1) || fail "could not download $1: wget exit $? ${msg//$'\n'/ }"
  else
    fail "neither curl nor wget is installed: one is needed to download $1"
  fi
}

sha256() { # sha256 FILE: prints the hex digest
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{print $1}'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{print $1}'
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | awk '{print $1}'
  else
    fail "no sha256sum, shasum or openssl to check the download with"
  fi
}

fetch "$base/SHA256SUMS" "$dir/SHA256SUMS"
# "<hex>  <name>" (or "<hex> *<name>"): the line for exactly this file.
want=$(awk -v n="$name" '{f=$2; sub(/^\*/, "", f)} f == n {print tolower($1); exit}' "$dir/SHA256SUMS")
[[ "$want" =~ ^[0-9a-f]{64}$ ]] || fail "the release's SHA256SUMS has no checksum for $name ($base/SHA256SUMS)"

fetch "$base/$name" "$dir/$name"
got=$(sha256 "$dir/$name")
if [ "$got" != "$want" ]; then
  rm -f "$dir/$name"
  fail "$name from $base does not match the release's SHA256SUMS (want $want, got $got): it was deleted, not run"
fi
chmod +x "$dir/$name"
exec "$dir/$name" "$@"
