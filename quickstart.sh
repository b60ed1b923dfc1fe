#!/usr/bin/env bash
# The main job, end to end on a fresh machine and with no model key: build, start mogplexd on the
# embedded default (SQLite in a temporary data folder), link a demo repository it creates, make a
# token, start an `exec` run that changes the repo, follow its events live until it ends, show
# the delivered commit on the working branch, and stop the daemon.
set -euo pipefail
cd "$(dirname "$0")"

./scripts/install-deps.sh
./build.sh
bin="$PWD/artifacts/bin/mogplexd"

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

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "demo repository"
git init -q --bare "$work/demo.git"
git clone -q "$work/demo.git" "$work/demo" 2>/dev/null
git -C "$work/demo" -c user.name=demo -c user.email=demo@example.invalid commit -q --allow-empty -m "initial commit"
git -C "$work/demo" push -q origin HEAD:main
echo "created $work/demo.git with branch main" >&2

step "operator: link the repo and make a token"
repo_id=$("$bin" repo add "$work/demo.git" --name demo/hello --data-dir "$data")
token=$("$bin" token create --name quickstart --data-dir "$data")

step "start mogplexd (Unix socket $data/mogplexd.sock)"
"$bin" serve --data-dir "$data" --dev 2>"$work/mogplexd.log" &
server_pid=$!
sock="$data/mogplexd.sock"
for _ in $(seq 1 100); do
  curl -sf --unix-socket "$sock" http://mogplexd/healthz >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf --unix-socket "$sock" http://mogplexd/healthz | jq -c .

api() { curl -sS --unix-socket "$sock" -H "Authorization: Bearer $token" "$@"; }
base=http://mogplexd/api/v1/mogplex

step "GET /repos"
api "$base/repos" | jq -c '.data.repos[]'

step "POST /runs (harness exec: the prompt is a script run in the sandbox)"
script='echo "# Hello from Mogplex" > HELLO.md
echo "wrote HELLO.md"'
body=$(jq -nc --arg repo "$repo_id" --arg prompt "$script" '{repoId: $repo, harness: "exec", prompt: $prompt, createBranch: true, workingBranch: "demo/hello"}')
run=$(api -X POST "$base/runs" -H 'Content-Type: application/json' -H "Idempotency-Key: quickstart-$(date +%s)" -d "$body")
echo "$run" | jq -c '.data | {runId, status, harness, branch}'
run_id=$(echo "$run" | jq -r '.data.runId')

step "follow the run live (Server-Sent Events until it ends)"
api -N -H 'Accept: text/event-stream' "$base/runs/$run_id/events" | sed -n 's/^data: //p' | jq -c 'select(.type) | {type, message}'

step "the run"
api "$base/runs/$run_id" | jq -c '.data.run | {status, error, commit, branch: .branch.working}'
status=$(api "$base/runs/$run_id" | jq -r '.data.run.status')

step "the delivered commit on the working branch of the source repo"
git --git-dir "$work/demo.git" log --oneline --stat demo/hello -1

step "stop mogplexd"
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
[[ $status == success ]] || { echo "the run ended $status" >&2; exit 1; }
echo "done" >&2
