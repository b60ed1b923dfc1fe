#!/usr/bin/env bash
# Installs what the tests and the quick start need on a fresh machine, only when missing.
# Debian packages: git, curl, jq (tests drive the published server with curl), clang and zlib
# (the linker Native AOT uses for the mogplex binary), bubblewrap (the sandbox: mogplexd refuses to
# run harnesses without it unless told Sandbox:Isolation=none), socat (the sandbox's bridge to
# the egress proxy) and tmux (the cockpit's end-to-end tests drive it in a real terminal); with
# --bench: wrk, hyperfine, gh, python3 (benchmarks).
set -euo pipefail
missing=()
for tool in git curl jq; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v socat >/dev/null 2>&1 || missing+=(socat)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
[[ -e /usr/include/zlib.h ]] || missing+=(zlib1g-dev)
if [[ ${1:-} == --bench ]]; then
  for tool in wrk hyperfine gh python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
fi
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi
command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }
