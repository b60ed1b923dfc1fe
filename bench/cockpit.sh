#!/usr/bin/env bash
# The cockpit on the real binary in a pseudo-terminal (bench/cockpit.py), with the stdio transport:
# first full paint after exec, an event line -> on screen, a keystroke -> its echo (p50/p90 over
# BENCH_ITERATIONS, default 10), and peak memory of a 100,000-event replay paged through.
# Targets (issue #12): paint p50 <= 50 ms, line p50 <= 20 ms, key p50 <= 16 ms, memory <= 200 MB;
# a miss is printed as MISSED. The headless figures are bench/cli.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --bench
if [[ ! -x artifacts/bin/mogplex ]] ||
  [[ -n $(find src Directory.Build.props Directory.Packages.props \( -name bin -o -name obj \) -prune -o -type f -newer artifacts/bin/mogplex -print -quit) ]]; then
  ./build.sh
fi
exec python3 bench/cockpit.py "$PWD/artifacts/bin/mogplex" "${BENCH_ITERATIONS:-10}"
