#!/usr/bin/env bash
# Interactive runs of the published mogplexd, with the real Codex and Claude Code CLIs against the
# model stand-in (bench/ModelStandIn), measured side by side in one run, per harness:
#   approval   permissionMode approval, prompt "[[write f.txt x]]": the decision stored -> the
#              answer written to the harness (the server's share, which mogplexd logs per approval:
#              "approval ... answered to the harness N ms after it was decided"); the approval_decided
#              event -> the harness's next tool_call/tool_result (server clock, event createdAt: this
#              includes the harness running the approved command); and the client's POST of the
#              decision -> that event read on the SSE stream
#   follow-up  an interactive run awaiting input: the user_message event -> the next turn_started
#              (server clock), and the client's POST /messages -> that turn_started read on the stream
#   start      a one-shot run (auto mode), for comparison: the run's first event -> its first
#              turn_started or stream_started (server clock)
# p50/p90 over BENCH_ITERATIONS (10) each. Targets: approval p50 <= 50 ms, follow-up p50 <= 100 ms
# (server clock); a missed target is printed as MISSED, only errors fail the script.
# BENCH_BIN: another build's mogplexd to measure with this same script; used as it is, never rebuilt.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

iterations=${BENCH_ITERATIONS:-10}
approval_target=50
followup_target=100

./scripts/install-deps.sh --bench
./scripts/install-harnesses.sh
bin=${BENCH_BIN:-$PWD/artifacts/bin/mogplexd}
# Build when the binary is missing or older than any source file (bin/ and obj/ are build output).
if [[ -z ${BENCH_BIN:-} ]] && { [[ ! -x $bin ]] ||
  [[ -n $(find src Directory.Build.props Directory.Packages.props \( -name bin -o -name obj \) -prune -o -type f -newer "$bin" -print -quit) ]]; }; then
  ./build.sh
fi
[[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 1; }
standin=$PWD/artifacts/bench/ModelStandIn/ModelStandIn.dll
if [[ ! -f $standin ]] ||
  [[ -n $(find bench/ModelStandIn tests/Mogplex.Testing \( -name bin -o -name obj \) -prune -o -type f -newer "$standin" -print -quit) ]]; then
  dotnet build bench/ModelStandIn/ModelStandIn.csproj -c Release -o artifacts/bench/ModelStandIn --nologo -v quiet >&2
fi

work=$(mktemp -d)
data="$work/data"
server_pid=""
model_pid=""
cleanup() {
  local p
  for p in $server_pid $model_pid; do
    if kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p"
      wait "$p" || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# The model stand-in: prints its root URL, serves until stdin closes (a FIFO held open here) or SIGTERM.
mkfifo "$work/model.in"
dotnet "$standin" <"$work/model.in" >"$work/model.out" 2>"$work/model.log" &
model_pid=$!
exec {model_in}>"$work/model.in"
model=""
for _ in $(seq 1 200); do
  model=$(head -n 1 "$work/model.out" 2>/dev/null || true)
  [[ -n $model ]] && break
  kill -0 "$model_pid" 2>/dev/null || { echo "the model stand-in exited:" >&2; cat "$work/model.log" >&2; exit 1; }
  sleep 0.05
done
[[ -n $model ]] || { echo "the model stand-in did not start" >&2; exit 1; }
model=${model%/}

# A local bare repository with one commit on main.
git init -q --bare --initial-branch=main "$work/bench.git"
git clone -q "$work/bench.git" "$work/clone" 2>/dev/null
git -C "$work/clone" -c user.name=bench -c user.email=bench@example.invalid commit -q --allow-empty -m "initial commit"
git -C "$work/clone" push -q origin HEAD:main

repo_id=$("$bin" repo add "$work/bench.git" --name bench/interactive --data-dir "$data" 2>/dev/null)
token=$("$bin" token create --name bench --data-dir "$data" 2>/dev/null)

# Port 0: the server picks a free port and logs it.
MOGPLEXD_RateLimits__RequestsPerWindow=1000000000 MOGPLEXD_RateLimits__RunStartsPerMinute=100000 \
MOGPLEXD_RateLimits__RunStartsPerHour=100000 MOGPLEXD_RateLimits__RunStartsPerDay=100000 \
MOGPLEXD_Harnesses__Codex__BaseUrl="$model/v1" MOGPLEXD_Harnesses__Codex__ApiKeyVariable=MODEL_KEY \
MOGPLEXD_Harnesses__Codex__Secrets__MODEL_KEY=stand-in-model-key \
MOGPLEXD_Harnesses__ClaudeCode__BaseUrl="$model" \
MOGPLEXD_Harnesses__ClaudeCode__Secrets__ANTHROPIC_API_KEY=stand-in-model-key \
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
api_base="$base/api/v1/mogplex"

api() { curl -sS --fail-with-body -H "Authorization: Bearer $token" "$@"; }
post() { # path [json]
  api -X POST "$api_base$1" -H 'Content-Type: application/json' -H "Idempotency-Key: bench-$RANDOM$RANDOM$RANDOM" -d "${2:-{\}}"
}
start_run() { # harness prompt branch interactive permissionMode -> run id
  local body id
  body=$(jq -nc --arg r "$repo_id" --arg h "$1" --arg p "$2" --arg b "$3" --argjson i "$4" --arg m "$5" \
    '{repoId:$r, harness:$h, prompt:$p, createBranch:true, workingBranch:$b, interactive:$i, permissionMode:$m}')
  id=$(post /runs "$body" | jq -r '.data.runId // empty')
  [[ -n $id ]] || { echo "POST /runs failed for $1" >&2; exit 1; }
  echo "$id"
}
run_json() { api "$api_base/runs/$1" | jq -c .data.run; }
fail_run() { # run id, what
  echo "run $1 ($2): $(run_json "$1")" >&2
  all_events "$1" | jq -c '.[] | {type, message}' | tail -n 40 >&2
  exit 1
}
terminal() { [[ $1 == success || $1 == failed || $1 == cancelled ]]; }
# Waits until the run awaits $2 (approval or input) or ends; prints the awaiting value or the status.
wait_for() { # run id, awaiting
  local run awaiting status
  for _ in $(seq 1 3000); do
    run=$(run_json "$1")
    awaiting=$(jq -r '.awaiting // ""' <<<"$run")
    status=$(jq -r .status <<<"$run")
    [[ $awaiting == "$2" ]] && { echo "$awaiting"; return; }
    terminal "$status" && { echo "$status"; return; }
    sleep 0.02
  done
  fail_run "$1" "waited 60 s for awaiting $2"
}
wait_end() { # run id -> status
  local status
  for _ in $(seq 1 3000); do
    status=$(run_json "$1" | jq -r .status)
    terminal "$status" && { echo "$status"; return; }
    sleep 0.05
  done
  fail_run "$1" "did not end within 150 s"
}
all_events() { # run id -> a JSON array of every event
  local after="" page all='[]' n
  while :; do
    page=$(api "$api_base/runs/$1/events?limit=200${after:+&after=$after}" | jq -c .data.events)
    all=$(jq -c --argjson p "$page" '. + $p' <<<"$all")
    n=$(jq length <<<"$page")
    ((n == 200)) || break
    after=$(jq -r '.[-1].id' <<<"$page")
  done
  echo "$all"
}
last_event_id() { all_events "$1" | jq -r '.[-1].id'; }

# Client side: opens the run's SSE stream after event $2, POSTs $3 with body $4 in the background,
# and reads until an event matching $5 (a regex on the data line), then one matching $6. Prints the
# ms from the POST to reading the second one; the POST's answer goes to $work/post.json.
client_round_trip() { # run after path body first_regex then_regex
  local sse sse_pid poster t0 t1="" armed="" line
  exec {sse}< <(exec curl -sS -N -H "Authorization: Bearer $token" -H 'Accept: text/event-stream' \
    "$api_base/runs/$1/events?after=$2" 2>/dev/null)
  sse_pid=$!
  sleep 0.05 # the stream is open before the POST
  t0=$EPOCHREALTIME
  post "$3" "$4" >"$work/post.json" &
  poster=$!
  while IFS= read -r -t 30 -u "$sse" line; do
    [[ $line == data:* ]] || continue
    if [[ -z $armed ]]; then
      [[ $line =~ $5 ]] && armed=1
    elif [[ $line =~ $6 ]]; then
      t1=$EPOCHREALTIME
      break
    fi
  done
  kill "$sse_pid" 2>/dev/null || true
  exec {sse}<&-
  wait "$poster" || { echo "POST $3 failed: $(cat "$work/post.json")" >&2; exit 1; }
  [[ -n $t1 ]] || fail_run "$1" "no event matching $6 after $5 within 30 s"
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", (b-a)*1000}'
}

# Server side, from event times (ms precision): for each event matching the jq filter $2, the ms
# to the next event matching $3.
server_gaps() { # run first_filter then_filter
  all_events "$1" | jq -r "
    def ms: capture(\"T(?<h>..):(?<m>..):(?<s>..)\\\\.(?<f>...)\") | (.h|tonumber)*3600000 + (.m|tonumber)*60000 + (.s|tonumber)*1000 + (.f|tonumber);
    . as \$e | range(0; length) as \$i | select(\$e[\$i] | $2) |
    ([\$e[\$i+1:][] | select($3)][0]) as \$next | select(\$next != null) |
    (\$next.createdAt | ms) - (\$e[\$i].createdAt | ms)"
}
percentile() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; printf "%.1f", a[i]}'; }

declare -A results
record() { # key values...
  local key=$1
  shift
  results[$key]="${results[$key]:-} $*"
}

harness_event='.type == "tool_call" or .type == "tool_result"'
for harness in codex claude-code; do
  echo "$harness: approvals ($iterations runs)..." >&2
  for i in $(seq 1 "$iterations"); do
    id=$(start_run "$harness" "[[write f.txt x]]" "bench/approval-$harness-$i" false approval)
    got=$(wait_for "$id" approval)
    [[ $got == approval ]] || fail_run "$id" "ended ($got) without asking"
    first=true
    while :; do
      aid=$(api "$api_base/runs/$id/approvals?status=pending" | jq -r '.data.approvals[0].id // empty')
      if [[ -n $aid ]]; then
        if $first; then
          after=$(last_event_id "$id")
          ms=$(client_round_trip "$id" "$after" "/runs/$id/approvals/$aid" '{"decision":"approve"}' \
            "\"approval_decided\".*\"$aid\"|\"$aid\".*\"approval_decided\"" '"type":"(tool_call|tool_result)"')
          record "approval_client_$harness" "$ms"
          first_aid=$aid
          first=false
        else
          post "/runs/$id/approvals/$aid" '{"decision":"approve"}' >/dev/null
        fi
      fi
      got=$(wait_for "$id" approval)
      terminal "$got" && break
    done
    [[ $got == success ]] || fail_run "$id" "ended $got"
    # The first decision of the run -> the harness's next event.
    gap=$(server_gaps "$id" '.type == "approval_decided"' "$harness_event" | head -n 1)
    [[ -n $gap ]] || fail_run "$id" "no harness event after approval_decided"
    record "approval_server_$harness" "$gap"
    answered=$(jq -r --arg aid "$first_aid" 'select(.State.ApprovalId? == $aid and .State.LatencyMs? != null) | .State.LatencyMs' "$work/mogplexd.log" 2>/dev/null | head -n 1)
    [[ -n $answered ]] || fail_run "$id" "mogplexd logged no answer for approval $first_aid"
    record "approval_answer_$harness" "$(printf '%.0f' "$answered")"
  done

  echo "$harness: follow-ups ($iterations messages in one interactive run)..." >&2
  id=$(start_run "$harness" "[[say hi]]" "bench/followup-$harness" true auto)
  got=$(wait_for "$id" input)
  [[ $got == input ]] || fail_run "$id" "ended ($got) instead of awaiting input"
  for i in $(seq 1 "$iterations"); do
    after=$(last_event_id "$id")
    ms=$(client_round_trip "$id" "$after" "/runs/$id/messages" '{"text":"[[say again]]"}' \
      '"type":"user_message"' '"type":"turn_started"')
    record "followup_client_$harness" "$ms"
    got=$(wait_for "$id" input)
    [[ $got == input ]] || fail_run "$id" "ended ($got) after follow-up $i"
  done
  post "/runs/$id/finish" >/dev/null
  got=$(wait_end "$id")
  [[ $got == success ]] || fail_run "$id" "ended $got after finish"
  mapfile -t gaps < <(server_gaps "$id" '.type == "user_message"' '.type == "turn_started"')
  ((${#gaps[@]} == iterations)) || fail_run "$id" "${#gaps[@]} turns after $iterations messages"
  record "followup_server_$harness" "${gaps[@]}"

  echo "$harness: one-shot starts ($iterations runs)..." >&2
  for i in $(seq 1 "$iterations"); do
    id=$(start_run "$harness" "[[say hi]]" "bench/start-$harness-$i" false auto)
    got=$(wait_end "$id")
    [[ $got == success ]] || fail_run "$id" "ended $got"
    gap=$(all_events "$id" | jq -r '
      def ms: capture("T(?<h>..):(?<m>..):(?<s>..)\\.(?<f>...)") | (.h|tonumber)*3600000 + (.m|tonumber)*60000 + (.s|tonumber)*1000 + (.f|tonumber);
      ([.[] | select(.type == "turn_started" or .type == "stream_started")][0].createdAt | ms) - (.[0].createdAt | ms)')
    record "start_server_$harness" "$gap"
  done
done

echo "$iterations iterations per figure; $(nproc) CPUs; harnesses: the pinned Codex and Claude Code CLIs, model: the stand-in" >&2
printf '%-12s %-64s %9s %9s  %s\n' harness measure "p50 (ms)" "p90 (ms)" target
row() { # harness key label target
  local p50 p90 verdict=""
  p50=$(tr ' ' '\n' <<<"${results[$2]}" | grep . | percentile 50)
  p90=$(tr ' ' '\n' <<<"${results[$2]}" | grep . | percentile 90)
  if [[ -n $4 ]]; then
    verdict=$(awk -v p="$p50" -v t="$4" 'BEGIN { print (p <= t) ? "p50 <= " t " ms: target met" : "p50 <= " t " ms: MISSED" }')
  fi
  printf '%-12s %-64s %9s %9s  %s\n' "$1" "$3" "$p50" "$p90" "$verdict"
}
for harness in codex claude-code; do
  row "$harness" "approval_answer_$harness" "approval: decided -> answer written to the harness (server)" "$approval_target"
  row "$harness" "approval_server_$harness" "approval: decided -> next tool event, incl. the command (server)" ""
  row "$harness" "approval_client_$harness" "approval: POST decision -> tool event seen (client)" ""
  row "$harness" "followup_server_$harness" "follow-up: user_message -> turn_started (server)" "$followup_target"
  row "$harness" "followup_client_$harness" "follow-up: POST message -> turn_started seen (client)" ""
  row "$harness" "start_server_$harness" "one-shot start: first event -> first turn (server)" ""
done

kill -TERM "$server_pid"
wait "$server_pid" || { echo "mogplexd did not stop cleanly" >&2; exit 1; }
server_pid=""
exec {model_in}>&-
wait "$model_pid" || { echo "the model stand-in did not stop cleanly" >&2; exit 1; }
model_pid=""
