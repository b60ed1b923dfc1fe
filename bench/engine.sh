#!/usr/bin/env bash
# Run engine figures of the published mogplexd, measured in one run (exec harness, no model):
#   start      POST /runs -> the harness's first line visible on the SSE stream, repo of 10,000 files,
#              each run on a new working branch (a new sandbox); p50/p95 over BENCH_RUNS (20), paced
#              (BENCH_START_GAP, 3 s, between a run's end and the next start) and back to back
#   ingest     one run printing BENCH_LINES (200,000) lines: lines per second from streaming to finished
#   tail       a harness line -> the same line read by an SSE client, p50/p99 over 200 lines
#   cancel     POST /runs/{id}/cancel while an exec run sleeps -> the answer saying cancelled, and
#              -> the harness process gone; p50/max over BENCH_CANCELS (10)
#   clones     ways to check out the same repo from a mirror, side by side (bench/clone-strategies.sh;
#              BENCH_CLONES=0 skips them)
#              (the server's own clock, from event times: accepted -> claimed -> checkout ready -> first line)
# Targets (issue #3): start <= 150 ms, ingest >= 50,000 events/s, tail p50 <= 20 ms, cancel within 2 s.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${BENCH_RUNS:-20}
gap=${BENCH_START_GAP:-3}
lines=${BENCH_LINES:-200000}
cancels=${BENCH_CANCELS:-10}

./scripts/install-deps.sh
# BENCH_BIN: another build to compare (e.g. the previous commit's), measured by this same script.
bin=${BENCH_BIN:-$PWD/artifacts/bin/mogplexd}
[[ -x $bin ]] || ./build.sh
work=$(mktemp -d)
data="$work/data"
pid=""
cleanup() { [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; sync; }
trap cleanup EXIT

# A source repo with 10,000 files.
git init -q --bare --initial-branch=main "$work/src.git"
git clone -q "$work/src.git" "$work/seed" 2>/dev/null
mkdir -p "$work/seed/files"
(cd "$work/seed/files" && seq 1 10000 | split -l 1 -a 5 - f)
git -C "$work/seed" add -A
git -C "$work/seed" -c gc.auto=0 -c user.name=b -c user.email=b@example.invalid commit -qm "10,000 files"
git -C "$work/seed" push -q origin HEAD:main

repo=$("$bin" repo add "$work/src.git" --name bench/big --data-dir "$data" 2>/dev/null)
token=$("$bin" token create --name bench --data-dir "$data" 2>/dev/null)
MOGPLEXD_RateLimits__RequestsPerWindow=1000000 MOGPLEXD_RateLimits__RunStartsPerMinute=100000 \
MOGPLEXD_RateLimits__RunStartsPerHour=100000 MOGPLEXD_RateLimits__RunStartsPerDay=100000 \
  "$bin" serve --data-dir "$data" --dev 2>"$work/server.log" &
pid=$!
sock="$data/mogplexd.sock"
for _ in $(seq 1 100); do curl -sf --unix-socket "$sock" http://m/healthz >/dev/null 2>&1 && break; sleep 0.1; done
base=http://m/api/v1/mogplex
api() { curl -sS --unix-socket "$sock" -H "Authorization: Bearer $token" "$@"; }
start_run() { # prompt branch -> run id
  jq -nc --arg r "$repo" --arg p "$1" --arg b "$2" '{repoId:$r, harness:"exec", prompt:$p, createBranch:true, workingBranch:$b}' |
    api -X POST "$base/runs" -H "Idempotency-Key: $2-$RANDOM$RANDOM" -d @- | jq -r .data.runId
}
# Reads a run's stream until a line matches; grep quitting early makes curl fail to write, which
# is expected, so only grep's status counts here. The moment grep matched goes to $work/matched:
# the pipeline itself ends only when curl next writes (for a start run: after its delivery).
stream_until() { (set +o pipefail; api -N -H 'Accept: text/event-stream' "$base/runs/$1/events" 2>/dev/null | { grep -m1 -q -- "$2" && echo "$EPOCHREALTIME" >"$work/matched"; }); }
wait_end() { stream_until "$1" '^event: end'; }
percentile() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; printf "%.1f", a[i]}'; }

echo "reference: a plain clone + checkout of the same repo..." >&2
t0=$EPOCHREALTIME
git clone -q --no-checkout "$work/src.git" "$work/plain"
git -C "$work/plain" checkout -q main
t1=$EPOCHREALTIME
plain_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b-a)*1000}')

ms_since() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN {printf "%.1f", (b-a)*1000}'; }
# From a start run's events (server clock, ms): how its sandbox got its checkout (warm,
# warm_after_wait, cloned, reused), and accepted -> claimed, -> checkout ready, -> first line.
phases_of() {
  api "$base/runs/$1/events?limit=200" | jq -r '
    def ms: capture("T(?<h>..):(?<m>..):(?<s>..)\\.(?<f>...)") | (.h|tonumber)*3600000 + (.m|tonumber)*60000 + (.s|tonumber)*1000 + (.f|tonumber);
    .data.events as $e | ($e[0].createdAt | ms) as $t
    | def at(f): ([$e[] | select(f)][0].createdAt | ms) - $t;
    "\([$e[] | select(.message | startswith("Synchronized")) | .payload.checkout][0]) \(at(.message == "Preparing sandbox")) \(at(.message | startswith("Synchronized"))) \(at(.message == "first-line"))"'
}

# One series of start runs, each on a new branch (a new sandbox), the next one $2 seconds after
# the previous one ended. Sets <label>_p50, _p95, _how (ready / waited for / cloned) and _phases.
start_series() { # runs gap label
  local starts=() claims=() readies=() firsts=() how claim ready first id t0 i
  local -A got=([warm]=0 [warm_after_wait]=0 [cloned]=0)
  for i in $(seq 1 "$1"); do
    t0=$EPOCHREALTIME
    id=$(start_run "echo first-line" "bench/$3-$i")
    stream_until "$id" '"message":"first-line"'
    starts+=("$(ms_since "$t0" "$(cat "$work/matched")")")
    wait_end "$id"
    read -r how claim ready first < <(phases_of "$id")
    got[$how]=$((${got[$how]:-0} + 1))
    claims+=("$claim") readies+=("$ready") firsts+=("$first")
    sleep "$2"
  done
  printf -v "$3_p50" '%s' "$(printf '%s\n' "${starts[@]}" | percentile 50)"
  printf -v "$3_p95" '%s' "$(printf '%s\n' "${starts[@]}" | percentile 95)"
  printf -v "$3_how" '%s' "${got[warm]} / ${got[warm_after_wait]} / ${got[cloned]}"
  printf -v "$3_phases" '%s' "$(printf '%s\n' "${claims[@]}" | percentile 50) / $(printf '%s\n' "${readies[@]}" | percentile 50) / $(printf '%s\n' "${firsts[@]}" | percentile 50) ms"
}

# Paced: a run starts once the pool had the time to refill (a team's runs, not a flood); back to
# back: the pool's refill rate, not the start path, sets the figure (one 10,000-file checkout per run).
echo "start latency ($runs runs $gap s apart, 10,000-file repo)..." >&2
start_series "$runs" "$gap" paced
echo "start latency ($runs runs back to back)..." >&2
start_series "$runs" 0 flood

echo "ingest ($lines lines)..." >&2
id=$(start_run "seq 1 $lines" "bench/ingest")
wait_end "$id"
read -r started finished status < <(api "$base/runs/$id" | jq -r '.data.run | "\(.startedAt) \(.finishedAt) \(.status)"')
[[ $status == success ]] || { echo "ingest run ended $status" >&2; exit 1; }
ms() { date -d "$1" +%s%3N; }
ingest_ms=$(( $(ms "$finished") - $(ms "$started") ))
ingest_rate=$(( lines * 1000 / (ingest_ms > 0 ? ingest_ms : 1) ))

echo "tail latency (200 lines, 20 ms apart)..." >&2
id=$(start_run 'for i in $(seq 1 200); do echo "tick $EPOCHREALTIME"; sleep 0.02; done' "bench/tail")
tails=$(api -N -H 'Accept: text/event-stream' "$base/runs/$id/events" | while IFS= read -r line; do
  [[ $line == 'event: end' ]] && break
  if [[ $line =~ \"message\":\"tick\ ([0-9.]+)\" ]]; then
    awk -v a="${BASH_REMATCH[1]}" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f\n", (b-a)*1000}'
  fi
done)
tail_p50=$(percentile 50 <<<"$tails")
tail_p99=$(percentile 99 <<<"$tails")

echo "cancel latency ($cancels runs)..." >&2
cancel_answer=()
cancel_gone=()
for i in $(seq 1 "$cancels"); do
  marker="mogplex-bench-cancel-$$-$i"
  id=$(start_run "echo sleeping
bash -c 'sleep 300; true' $marker" "bench/cancel-$i")
  stream_until "$id" '"message":"sleeping"'
  for _ in $(seq 1 500); do pgrep -f -- "$marker" >/dev/null && break; sleep 0.01; done
  # The answer and the process's end are timed side by side: the POST in the background.
  t0=$EPOCHREALTIME
  (api -X POST "$base/runs/$id/cancel" >"$work/cancel.json"; echo "$EPOCHREALTIME" >"$work/cancel.t") &
  poster=$!
  while pgrep -f -- "$marker" >/dev/null; do sleep 0.005; done
  cancel_gone+=("$(ms_since "$t0")")
  wait "$poster"
  cancel_answer+=("$(awk -v a="$t0" -v b="$(cat "$work/cancel.t")" 'BEGIN {printf "%.1f", (b-a)*1000}')")
  status=$(jq -r .data.status "$work/cancel.json")
  [[ $status == cancelled ]] || { echo "cancel answered $status" >&2; exit 1; }
done
cancel_p50=$(printf '%s\n' "${cancel_answer[@]}" | percentile 50)
cancel_max=$(printf '%s\n' "${cancel_answer[@]}" | percentile 100)
gone_p50=$(printf '%s\n' "${cancel_gone[@]}" | percentile 50)
gone_max=$(printf '%s\n' "${cancel_gone[@]}" | percentile 100)

kill -TERM "$pid" && wait "$pid" 2>/dev/null || true
pid=""
clones=""
if [[ ${BENCH_CLONES:-1} != 0 ]]; then
  echo "clone strategies..." >&2
  clones=$(bench/clone-strategies.sh "$work/src.git")
fi

printf '%-52s %12s %12s %10s\n' "measure" "value" "target" "ratio"
printf '%-52s %9s ms %9s ms %10s\n' "start -> first harness event, p50 (paced)" "$paced_p50" 150 "$(awk -v v="$paced_p50" 'BEGIN {printf "%.2f", v/150}')"
printf '%-52s %9s ms %12s\n' "start -> first harness event, p95 (paced)" "$paced_p95" "-"
printf '%-52s %12s %12s\n' "  checkouts: ready / waited for / cloned" "$paced_how" "-"
printf '%-52s %15s %9s\n' "  server p50: claimed / checkout ready / 1st line" "$paced_phases" "-"
printf '%-52s %9s ms %9s ms %10s\n' "start -> first harness event, p50 (back to back)" "$flood_p50" 150 "$(awk -v v="$flood_p50" 'BEGIN {printf "%.2f", v/150}')"
printf '%-52s %9s ms %12s\n' "start -> first harness event, p95 (back to back)" "$flood_p95" "-"
printf '%-52s %12s %12s\n' "  checkouts: ready / waited for / cloned" "$flood_how" "-"
printf '%-52s %15s %9s\n' "  server p50: claimed / checkout ready / 1st line" "$flood_phases" "-"
printf '%-52s %9s ms %12s\n' "reference: plain clone + checkout of that repo" "$plain_ms" "-"
printf '%-52s %7s ev/s %7s ev/s %10s\n' "ingest, one run of $lines lines" "$ingest_rate" 50000 "$(awk -v v="$ingest_rate" 'BEGIN {printf "%.2f", v/50000}')"
printf '%-52s %9s ms %9s ms %10s\n' "harness line -> SSE reader, p50" "$tail_p50" 20 "$(awk -v v="$tail_p50" 'BEGIN {printf "%.2f", v/20}')"
printf '%-52s %9s ms %12s\n' "harness line -> SSE reader, p99" "$tail_p99" "-"
printf '%-52s %9s ms %9s ms %10s\n' "cancel -> answer says cancelled, p50" "$cancel_p50" 2000 "$(awk -v v="$cancel_p50" 'BEGIN {printf "%.2f", v/2000}')"
printf '%-52s %9s ms %12s\n' "cancel -> answer says cancelled, max" "$cancel_max" "-"
printf '%-52s %9s ms %9s ms %10s\n' "cancel -> harness process gone, p50" "$gone_p50" 2000 "$(awk -v v="$gone_p50" 'BEGIN {printf "%.2f", v/2000}')"
printf '%-52s %9s ms %12s\n' "cancel -> harness process gone, max" "$gone_max" "-"
echo
echo "$clones"
