#!/usr/bin/env bash
# The main job, end to end on a fresh machine and with no model key: build, start mogplexd on the
# embedded default (SQLite in a temporary data folder), link a demo repository it creates, make a
# token, then with the `mogplex` CLI: start an `exec` run that changes the repo, follow its events
# live until it ends, show the run; finally the delivered commit on the working branch, and stop
# the daemon.
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
isolation=$(curl -sf --unix-socket "$sock" http://mogplexd/healthz | jq -r .data.sandbox.isolation)
[[ $isolation == bwrap ]] || { echo "mogplexd cannot isolate runs here (isolation: $isolation); see its log: $work/mogplexd.log" >&2; exit 1; }
echo "runs are isolated: bubblewrap sandbox, own uid and network namespace, no capabilities" >&2

# The CLI reaches the local daemon over its Unix socket.
export MOGPLEX_URL="unix:$sock" MOGPLEX_API_KEY="$token"
mogplex="$PWD/artifacts/bin/mogplex"

step "mogplex repos list"
"$mogplex" repos list

step "mogplex run (harness exec: the prompt is a script run in the sandbox)"
script='echo "# Hello from Mogplex" > HELLO.md
echo "wrote HELLO.md"'
run_id=$("$mogplex" run --repo "$repo_id" --harness exec --create-branch --branch demo/hello --json "$script" | jq -r .runId)
"$mogplex" runs get "$run_id"

step "mogplex runs events --follow (live, until the run ends)"
"$mogplex" runs events "$run_id" --follow --timeout 300

step "the run"
"$mogplex" runs get "$run_id" --json | jq -c '{status, error, commit, branch: .branch.working}'
status=$("$mogplex" runs get "$run_id" --json | jq -r .status)

step "the delivered commit on the working branch of the source repo"
git --git-dir "$work/demo.git" log --oneline --stat demo/hello -1

step "stop mogplexd"
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
[[ $status == success ]] || { echo "the run ended $status" >&2; exit 1; }
echo "done" >&2
