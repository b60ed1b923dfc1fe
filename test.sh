#!/usr/bin/env bash
# Runs every test suite and ends with one line: "N passed, N failed" (totals over all suites).
# Exits non-zero on any failure, on a suite that did not run, or when no test ran at all.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

./scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
# The pinned Codex and Claude Code CLIs and bubblewrap: the engine tests run them for real.
./scripts/install-harnesses.sh || { echo "0 passed, 1 failed"; exit 1; }
# The pinned OpenAPI tools (TypeScript, @hey-api/openapi-ts, Redocly, eventsource, Kiota): the API
# client tests generate, compile and run clients from the served document.
./scripts/install-api-tools.sh || { echo "0 passed, 1 failed"; exit 1; }

status=0
if ! dotnet format mogplex.slnx --verify-no-changes -v quiet; then
  echo "dotnet format found unformatted code (run: dotnet format mogplex.slnx)" >&2
  status=1
fi
if ! dotnet build mogplex.slnx -c Release --nologo -v quiet; then
  echo "0 passed, 1 failed"
  exit 1
fi
./build.sh || { echo "0 passed, 1 failed"; exit 1; }
export MOGPLEX_BIN_DIR="$PWD/artifacts/bin"

passed=0 failed=0
log_dir=$(mktemp -d)

# A throwaway PostgreSQL cluster for the PostgreSQL tests (storage conformance, two nodes, end to
# end), unless MOGPLEX_TEST_POSTGRES already names a server. Stopped and removed on exit. A cluster
# that does not start counts as a failure (and the PostgreSQL tests then fail, never skip).
if [[ -z ${MOGPLEX_TEST_POSTGRES:-} ]]; then
  pg_dir=$(mktemp -d -u "${TMPDIR:-/tmp}/mogplex-pg.XXXXXX")
  trap './scripts/pg-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true' EXIT
  if MOGPLEX_TEST_POSTGRES=$(./scripts/pg-cluster.sh start "$pg_dir"); then
    export MOGPLEX_TEST_POSTGRES
  else
    unset MOGPLEX_TEST_POSTGRES
    echo "scripts/pg-cluster.sh could not start the PostgreSQL test cluster" >&2
    failed=$((failed + 1))
  fi
fi

for project in tests/*.Tests/*.csproj; do
  name=$(basename "$project" .csproj)
  echo "=== $name" >&2
  dotnet test "$project" -c Release --no-build --nologo 2>&1 | tee "$log_dir/$name.log" >&2
  line=$(grep -E '(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+' "$log_dir/$name.log" | tail -n 1)
  if [[ -z $line ]]; then
    echo "$name: no test summary (the suite did not run)" >&2
    failed=$((failed + 1))
    continue
  fi
  f=$(sed -E 's/.*Failed: +([0-9]+),.*/\1/' <<<"$line")
  p=$(sed -E 's/.*Passed: +([0-9]+),.*/\1/' <<<"$line")
  passed=$((passed + p))
  failed=$((failed + f))
done

echo "$passed passed, $failed failed"
if ((failed > 0 || passed == 0 || status != 0)); then
  exit 1
fi
