#!/usr/bin/env bash
# Installs the pinned API client tools into <repo>/.tools/api-tools: the tests generate a
# TypeScript and a C# client from the OpenAPI document a real mogplexd serves, compile them and run
# them, and lint the document (tests/Mogplex.EndToEnd.Tests/ApiClients). Idempotent; a no-op
# (well under a second) when done.
#   node_modules/.bin/{tsc,openapi-ts,redocly}  TypeScript, @hey-api/openapi-ts, @redocly/cli
#   node_modules/eventsource                    the Node EventSource client
#   kiota/kiota                                 Microsoft.OpenApi.Kiota (a dotnet tool)
# Versions: the newest each registry serves that runs on the machine's Node 20 (see
# docs/decisions.md, "API clients").
set -euo pipefail
TYPESCRIPT_VERSION=6.0.3
OPENAPI_TS_VERSION=0.95.0
REDOCLY_VERSION=2.77.0
EVENTSOURCE_VERSION=4.1.1
TYPES_NODE_VERSION=20.19.43 # the types of the Node the flow programs run on (20)
KIOTA_VERSION=1.38.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix="$repo/.tools/api-tools"
bin="$prefix/node_modules/.bin"
# shellcheck source=scripts/install-common.sh
source "$repo/scripts/install-common.sh"

command -v npm >/dev/null 2>&1 || apt_install nodejs npm
command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

if [[ $(installed_version typescript) != "$TYPESCRIPT_VERSION" ||
      $(installed_version @hey-api/openapi-ts) != "$OPENAPI_TS_VERSION" ||
      $(installed_version @redocly/cli) != "$REDOCLY_VERSION" ||
      $(installed_version eventsource) != "$EVENTSOURCE_VERSION" ||
      $(installed_version @types/node) != "$TYPES_NODE_VERSION" ||
      ! -x $bin/tsc || ! -x $bin/openapi-ts || ! -x $bin/redocly ]]; then
  npm_prefix mogplex-api-tools
  quiet npm install --prefix "$prefix" --no-audit --no-fund --omit=dev --loglevel=error --save-exact \
    "typescript@$TYPESCRIPT_VERSION" "@hey-api/openapi-ts@$OPENAPI_TS_VERSION" \
    "@redocly/cli@$REDOCLY_VERSION" "eventsource@$EVENTSOURCE_VERSION" "@types/node@$TYPES_NODE_VERSION"
fi

kiota_dir="$prefix/kiota"
kiota_installed() { [[ -x $kiota_dir/kiota && -d $kiota_dir/.store/microsoft.openapi.kiota/$KIOTA_VERSION ]]; }
if ! kiota_installed; then
  if [[ -x $kiota_dir/kiota ]]; then
    quiet dotnet tool uninstall --tool-path "$kiota_dir" Microsoft.OpenApi.Kiota
  fi
  quiet dotnet tool install --tool-path "$kiota_dir" --version "$KIOTA_VERSION" Microsoft.OpenApi.Kiota
fi

tsc_v=$("$bin/tsc" --version 2>&1) || { echo "error: $bin/tsc --version failed: $tsc_v" >&2; exit 1; }
[[ $tsc_v == *"$TYPESCRIPT_VERSION"* ]] || { echo "error: unexpected tsc version: $tsc_v" >&2; exit 1; }
kiota_installed || { echo "error: $kiota_dir/kiota is not version $KIOTA_VERSION" >&2; exit 1; }
echo "api tools ready in $prefix: typescript $TYPESCRIPT_VERSION, @hey-api/openapi-ts $OPENAPI_TS_VERSION, @redocly/cli $REDOCLY_VERSION, eventsource $EVENTSOURCE_VERSION, kiota $KIOTA_VERSION" >&2
