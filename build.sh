#!/usr/bin/env bash
# Publishes the binaries into artifacts/bin:
#   mogplexd  the server (an executable with its files beside it)
#   mogplex   the CLI, one Native AOT executable (needs clang and zlib: scripts/install-deps.sh)
# and the shell completion scripts into artifacts/completions.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
./scripts/install-deps.sh
mkdir -p artifacts/bin artifacts/completions
dotnet publish src/Mogplex.Server/Mogplex.Server.csproj -c Release -o artifacts/bin --nologo -v quiet -p:UseAppHost=true
dotnet publish src/Mogplex.Cli/Mogplex.Cli.csproj -c Release -r linux-x64 -o artifacts/cli --nologo -v quiet
cp artifacts/cli/mogplex artifacts/bin/mogplex
cp src/Mogplex.Cli/Completions/* artifacts/completions/
echo "built: artifacts/bin/mogplexd, artifacts/bin/mogplex, artifacts/completions/" >&2
