#!/usr/bin/env bash
# Work distribution over nodes sharing one PostgreSQL database, measured in one run:
#   runs/min   BENCH_RUNS (40) `exec` runs that each wait one second (`sleep 1`), with
#              Runs:MaxConcurrent=2 per node, on one node and then on two nodes (fresh data folders,
#              same database); the figure measures distribution, not this machine's two cores (one
#              token starts every run, so Runs:MaxConcurrentPerUser=4 lets it fill both nodes)
#   append     event append rate of one run printing BENCH_LINES (100,000) lines, PostgreSQL vs SQLite
# Prints both and the ratios. Target (issue #5): two nodes >= 1.8x one node.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
runs=${BENCH_RUNS:-40}
lines=${BENCH_LINES:-100000}

./scripts/install-deps.sh --bench
[[ -x artifacts/bin/mogplexd && -x artifacts/bin/mogplex ]] || ./build.sh
server="$PWD/artifacts/bin/mogplexd"
cli="$PWD/artifacts/bin/mogplex"

work=$(mktemp -d)
# The cluster's folder is not under $work: mktemp -d makes $work 0700, and as root the cluster
# runs as the postgres user, who must be able to reach its folder (as in test.sh).
pg_dir=$(mktemp -d -u "${TMPDIR:-/tmp}/mogplex-pg.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  ./scripts/pg-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

conn=$(./scripts/pg-cluster.sh start "$pg_dir")

git init -q --bare --initial-branch=main "$work/src.git"
git clone -q "$work/src.git" "$work/seed" 2>/dev/null
git -C "$work/seed" -c user.name=b -c user.email=b@example.invalid commit -q --allow-empty -m "initial commit"
git -C "$work/seed" push -q origin HEAD:main

limits=(MOGPLEXD_RateLimits__RequestsPerWindow=100000000 MOGPLEXD_RateLimits__RunStartsPerMinute=100000
  MOGPLEXD_RateLimits__RunStartsPerHour=100000 MOGPLEXD_RateLimits__RunStartsPerDay=100000)

# start_node <name> <storage args...>: sets $sock to its socket; its pid goes to pids (no subshell)
start_node() {
  local name=$1
  shift
  env "${limits[@]}" MOGPLEXD_Runs__MaxConcurrent=2 MOGPLEXD_Runs__MaxConcurrentPerUser=4 \
    "$server" serve --data-dir "$work/$name" --dev "$@" 2>"$work/$name.log" >/dev/null &
  pids+=($!)
  for _ in $(seq 1 200); do
    curl -sf --unix-socket "$work/$name/mogplexd.sock" http://m/healthz >/dev/null 2>&1 && break
    sleep 0.05
  done
  curl -sf --unix-socket "$work/$name/mogplexd.sock" http://m/healthz >/dev/null || { cat "$work/$name.log" >&2; exit 1; }
  sock="$work/$name/mogplexd.sock"
}
stop_nodes() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  pids=()
}

# runs_per_minute <label> <socket...>: starts $runs runs spread over the nodes, waits for all,
# prints runs/min. Each run has a working branch of its own (scale/<label>-<n>): runs for one
# branch share its sandbox and take turns, which would cap a node at one run at a time.
runs_per_minute() {
  local label=$1
  shift
  local socks=("$@") ids=() t0 t1 i=0
  t0=$EPOCHREALTIME
  for n in $(seq 1 "$runs"); do
    local sock=${socks[$((n % ${#socks[@]}))]}
    ids+=("$(MOGPLEX_URL="unix:$sock" "$cli" run --repo "$repo" --harness exec --create-branch --branch "scale/$label-$n" --json "sleep 1" | jq -r .runId)")
  done
  for id in "${ids[@]}"; do
    local sock=${socks[$((i % ${#socks[@]}))]}
    i=$((i + 1))
    MOGPLEX_URL="unix:$sock" "$cli" runs events "$id" --follow --timeout 600 --json | tail -n 1 | jq -e '.status == "success"' >/dev/null ||
      { echo "run $id did not succeed:" >&2; MOGPLEX_URL="unix:$sock" "$cli" runs get "$id" --json >&2; exit 1; }
  done
  t1=$EPOCHREALTIME
  awk -v n="$runs" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n * 60 / (b - a) }'
}

# append_rate <socket>: one run printing $lines lines, lines per second between started and finished
append_rate() {
  local id started finished
  id=$(MOGPLEX_URL="unix:$1" "$cli" run --repo "$repo" --harness exec --json "seq 1 $lines" | jq -r .runId)
  MOGPLEX_URL="unix:$1" "$cli" runs events "$id" --follow --timeout 600 --json | tail -n 1 | jq -e '.status == "success"' >/dev/null
  read -r started finished < <(MOGPLEX_URL="unix:$1" "$cli" runs get "$id" --json | jq -r '"\(.startedAt) \(.finishedAt)"')
  local ms=$(($(date -d "$finished" +%s%3N) - $(date -d "$started" +%s%3N)))
  echo $((lines * 1000 / (ms > 0 ? ms : 1)))
}

pg=(--storage postgres --postgres "$conn")
repo=$("$server" repo add "$work/src.git" --name bench/scale --data-dir "$work/op" "${pg[@]}" 2>/dev/null)
export MOGPLEX_API_KEY
MOGPLEX_API_KEY=$("$server" token create --name bench --data-dir "$work/op" "${pg[@]}" 2>/dev/null)

echo "one node ($runs runs of 1 s, MaxConcurrent=2)..." >&2
start_node a "${pg[@]}"
a=$sock
one=$(runs_per_minute one "$a")
echo "event append on PostgreSQL ($lines lines)..." >&2
pg_rate=$(append_rate "$a")
stop_nodes

echo "two nodes..." >&2
start_node a2 "${pg[@]}"
a=$sock
start_node b2 "${pg[@]}"
b=$sock
two=$(runs_per_minute two "$a" "$b")
stop_nodes

echo "event append on SQLite ($lines lines)..." >&2
sqlite_repo=$("$server" repo add "$work/src.git" --name bench/scale --data-dir "$work/s" 2>/dev/null)
MOGPLEX_API_KEY=$("$server" token create --name bench --data-dir "$work/s" 2>/dev/null)
start_node s
s=$sock
repo=$sqlite_repo
sqlite_rate=$(append_rate "$s")
stop_nodes

printf '%-40s %14s %14s %8s %8s\n' "measure" "A" "B" "B/A" "target"
awk -v a="$one" -v b="$two" 'BEGIN { printf "%-40s %10.1f/min %10.1f/min %8.2f %8s\n", "runs: one node (A) vs two nodes (B)", a, b, b / a, ">=1.8" }'
awk -v a="$sqlite_rate" -v b="$pg_rate" 'BEGIN { printf "%-40s %12d/s %12d/s %8.2f %8s\n", "append: SQLite (A) vs PostgreSQL (B)", a, b, b / a, "-" }'
