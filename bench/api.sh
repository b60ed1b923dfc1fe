#!/usr/bin/env bash
# API throughput of the published mogplexd, measured with wrk in one run, side by side:
#   bare           GET /healthz                        (routing + one SQLite ping)
#   authenticated  GET /api/v1/mogplex/runs/<id>       (token lookup, rate-limit counter, run read)
# Prints requests/s and p99 latency of each and the ratio authenticated/bare.
#
# Settings (environment): BENCH_THREADS (2), BENCH_CONNECTIONS (32), BENCH_DURATION (10s),
# BENCH_WARMUP (3s, not reported). The per-token request limit is raised so that wrk measures the
# server, not the limiter's 429s; any non-2xx answer or socket error fails the benchmark.
# BENCH_BIN: another build's mogplexd to measure with this same script (e.g. the previous commit's,
# published to a folder of its own); it is used as it is, never rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

threads=${BENCH_THREADS:-2}
connections=${BENCH_CONNECTIONS:-32}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-3s}

./scripts/install-deps.sh --bench
bin=${BENCH_BIN:-$PWD/artifacts/bin/mogplexd}
# Build when the binary is missing or older than any source file (bin/ and obj/ are build output).
if [[ -z ${BENCH_BIN:-} ]] && { [[ ! -x $bin ]] ||
  [[ -n $(find src Directory.Build.props Directory.Packages.props \( -name bin -o -name obj \) -prune -o -type f -newer "$bin" -print -quit) ]]; }; then
  ./build.sh
fi
[[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 1; }

work=$(mktemp -d)
data="$work/data"
server_pid=""
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A local bare repository with one commit on main.
git init -q --bare "$work/bench.git"
git clone -q "$work/bench.git" "$work/clone" 2>/dev/null
git -C "$work/clone" -c user.name=bench -c user.email=bench@example.invalid commit -q --allow-empty -m "initial commit"
git -C "$work/clone" push -q origin HEAD:main

repo_id=$("$bin" repo add "$work/bench.git" --name bench/api --data-dir "$data" 2>/dev/null)
token=$("$bin" token create --name bench --data-dir "$data" 2>/dev/null)

# Port 0: the server picks a free port and logs it.
MOGPLEXD_RateLimits__RequestsPerWindow=1000000000 \
  "$bin" serve --data-dir "$data" --listen http://127.0.0.1:0 2>"$work/mogplexd.log" >/dev/null &
server_pid=$!
base=""
for _ in $(seq 1 200); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "mogplexd exited during start:" >&2
    cat "$work/mogplexd.log" >&2
    exit 1
  fi
  base=$(jq -r 'select(.Category == "mogplexd") | .State.Addresses' "$work/mogplexd.log" 2>/dev/null |
    grep -o 'http://127\.0\.0\.1:[0-9]*' | head -n 1 || true)
  [[ -n $base ]] && curl -sf "$base/healthz" >/dev/null && break
  sleep 0.05
done
[[ -n $base ]] || { echo "mogplexd did not start:" >&2; cat "$work/mogplexd.log" >&2; exit 1; }

run=$(curl -sS -X POST "$base/api/v1/mogplex/runs" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -H 'Idempotency-Key: bench' \
  -d "{\"repoId\":\"$repo_id\",\"prompt\":\"benchmark run\"}")
run_id=$(jq -r '.data.runId // empty' <<<"$run")
[[ -n $run_id ]] || { echo "POST /runs failed: $run" >&2; exit 1; }
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/api/v1/mogplex/runs/$run_id")
[[ $status == 200 ]] || { echo "GET /runs/$run_id answered $status" >&2; exit 1; }

# wrk once; prints "<requests/s> <p99 in ms>" and fails on non-2xx answers or socket errors.
measure() {
  local url=$1 out
  shift
  wrk -t"$threads" -c"$connections" -d"$warmup" "$@" "$url" >/dev/null
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$url")
  if grep -qE 'Non-2xx or 3xx responses|Socket errors' <<<"$out"; then
    echo "wrk saw errors on $url:" >&2
    echo "$out" >&2
    exit 1
  fi
  awk '
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" {
      v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      p99 = (unit == "us") ? v / 1000 : (unit == "s") ? v * 1000 : (unit == "m") ? v * 60000 : v
    }
    END { if (rps == "" || p99 == "") exit 1; printf "%s %.2f\n", rps, p99 }
  ' <<<"$out"
}

echo "wrk: $threads threads, $connections connections, $duration per endpoint (after a $warmup warm-up); $(nproc) CPUs" >&2
read -r bare_rps bare_p99 < <(measure "$base/healthz")
read -r auth_rps auth_p99 < <(measure "$base/api/v1/mogplex/runs/$run_id" -H "Authorization: Bearer $token")

printf '%-44s %14s %12s\n' "endpoint" "requests/s" "p99 (ms)"
printf '%-44s %14.0f %12.2f\n' "GET /healthz (bare)" "$bare_rps" "$bare_p99"
printf '%-44s %14.0f %12.2f\n' "GET /api/v1/mogplex/runs/<id> (authenticated)" "$auth_rps" "$auth_p99"
awk -v ar="$auth_rps" -v br="$bare_rps" -v ap="$auth_p99" -v bp="$bare_p99" \
  'BEGIN { printf "%-44s %14.2f %12.2f\n", "ratio authenticated/bare", ar / br, (bp > 0 ? ap / bp : 0) }'

kill -TERM "$server_pid"
wait "$server_pid" || { echo "mogplexd did not stop cleanly" >&2; exit 1; }
server_pid=""
