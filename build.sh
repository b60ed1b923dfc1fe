#!/usr/bin/env bash
# Publishes the binaries into artifacts/bin: mogplexd (an executable with its files beside it).
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
mkdir -p artifacts/bin
dotnet publish src/Mogplex.Server/Mogplex.Server.csproj -c Release -o artifacts/bin --nologo -v quiet -p:UseAppHost=true
echo "built: artifacts/bin/mogplexd" >&2
