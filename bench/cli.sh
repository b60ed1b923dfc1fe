#!/usr/bin/env bash
# CLI start-up and request cost, measured side by side in one run with hyperfine:
#   version   mogplex --version                        vs  gh --version (Debian's gh)
#   get       mogplex runs get <id> --json             vs  curl of the same endpoint (same transport)
# against the published mogplexd over TCP on 127.0.0.1 (MOGPLEX_DEV=1 allows plain http there).
# Prints the mean of each and the ratios. Targets (issue #4): version <= 0.25x gh; get <= 1.5x curl.
#
# Settings (environment): BENCH_RUNS (100 per command), BENCH_WARMUP (10).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
runs=${BENCH_RUNS:-100}
warmup=${BENCH_WARMUP:-10}

./scripts/install-deps.sh --bench
if [[ ! -x artifacts/bin/mogplex || ! -x artifacts/bin/mogplexd ]] ||
  [[ -n $(find src Directory.Build.props Directory.Packages.props \( -name bin -o -name obj \) -prune -o -type f -newer artifacts/bin/mogplex -print -quit) ]]; then
  ./build.sh
fi
server="$PWD/artifacts/bin/mogplexd"
cli="$PWD/artifacts/bin/mogplex"

work=$(mktemp -d)
data="$work/data"
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

git init -q --bare --initial-branch=main "$work/src.git"
git clone -q "$work/src.git" "$work/seed" 2>/dev/null
git -C "$work/seed" -c user.name=b -c user.email=b@example.invalid commit -q --allow-empty -m "initial commit"
git -C "$work/seed" push -q origin HEAD:main
repo=$("$server" repo add "$work/src.git" --name bench/cli --data-dir "$data" 2>/dev/null)
token=$("$server" token create --name bench --data-dir "$data" 2>/dev/null)

MOGPLEXD_RateLimits__RequestsPerWindow=1000000000 \
  "$server" serve --data-dir "$data" --dev --listen http://127.0.0.1:0 2>"$work/mogplexd.log" >/dev/null &
pid=$!
base=""
for _ in $(seq 1 200); do
  kill -0 "$pid" 2>/dev/null || { echo "mogplexd exited during start:" >&2; cat "$work/mogplexd.log" >&2; exit 1; }
  base=$(jq -r 'select(.Category == "mogplexd") | .State.Addresses' "$work/mogplexd.log" 2>/dev/null |
    grep -o 'http://127\.0\.0\.1:[0-9]*' | head -n 1 || true)
  [[ -n $base ]] && curl -sf "$base/healthz" >/dev/null && break
  sleep 0.05
done
[[ -n $base ]] || { echo "mogplexd did not start:" >&2; cat "$work/mogplexd.log" >&2; exit 1; }

export MOGPLEX_URL=$base MOGPLEX_DEV=1 MOGPLEX_API_KEY=$token
run=$("$cli" run --repo "$repo" --harness exec --json "echo bench" | jq -r .runId)
"$cli" runs events "$run" --follow --timeout 60 >/dev/null
# Both sides must succeed and print the same run before timing means anything.
[[ $("$cli" runs get "$run" --json | jq -r .runId) == "$run" ]]
[[ $(curl -sSf -H "Authorization: Bearer $token" "$base/api/v1/mogplex/runs/$run" | jq -r .data.run.runId) == "$run" ]]

mean() { jq -r --arg c "$2" '.results[] | select(.command == $c) | .mean * 1000' "$1"; }
echo "hyperfine: $runs runs per command after $warmup warm-up; $(nproc) CPUs; $(gh --version | head -n 1)" >&2
hyperfine -N -w "$warmup" -r "$runs" --export-json "$work/version.json" \
  -n mogplex "$cli --version" -n gh "gh --version" >&2
hyperfine -N -w "$warmup" -r "$runs" --export-json "$work/get.json" \
  -n mogplex "$cli runs get $run --json" \
  -n curl "curl -sS -H 'Authorization: Bearer $token' $base/api/v1/mogplex/runs/$run" >&2

v_m=$(mean "$work/version.json" mogplex); v_g=$(mean "$work/version.json" gh)
g_m=$(mean "$work/get.json" mogplex); g_c=$(mean "$work/get.json" curl)
printf '%-44s %12s %12s %8s %8s\n' "measure" "mogplex ms" "other ms" "ratio" "target"
awk -v a="$v_m" -v b="$v_g" 'BEGIN { printf "%-44s %12.2f %12.2f %8.2f %8s\n", "--version vs gh --version", a, b, a / b, "<=0.25" }'
awk -v a="$g_m" -v b="$g_c" 'BEGIN { printf "%-44s %12.2f %12.2f %8.2f %8s\n", "runs get <id> --json vs curl (TCP)", a, b, a / b, "<=1.5" }'
