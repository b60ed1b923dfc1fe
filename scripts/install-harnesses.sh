#!/usr/bin/env bash
# Installs the pinned agent CLIs (OpenAI Codex, Claude Code) into <repo>/.tools/harnesses and
# Debian's bubblewrap and socat (the sandbox's network bridge) when missing. Idempotent; a no-op
# (well under a second) when done.
# Binaries: <repo>/.tools/harnesses/node_modules/.bin/{codex,claude}
set -euo pipefail
CODEX_VERSION=0.169.0
CLAUDE_VERSION=2.1.328
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix="$repo/.tools/harnesses"
bin="$prefix/node_modules/.bin"
# shellcheck source=scripts/install-common.sh
source "$repo/scripts/install-common.sh"

apt_missing=()
command -v bwrap >/dev/null 2>&1 || apt_missing+=(bubblewrap)
command -v socat >/dev/null 2>&1 || apt_missing+=(socat)
command -v npm >/dev/null 2>&1 || apt_missing+=(nodejs npm)
if ((${#apt_missing[@]})); then
  apt_install "${apt_missing[@]}"
fi

if [[ $(installed_version @openai/codex) != "$CODEX_VERSION" ||
      $(installed_version @anthropic-ai/claude-code) != "$CLAUDE_VERSION" ||
      ! -x $bin/codex || ! -x $bin/claude ]]; then
  npm_prefix mogplex-harnesses
  quiet npm install --prefix "$prefix" --no-audit --no-fund --omit=dev --loglevel=error \
    --save-exact "@openai/codex@$CODEX_VERSION" "@anthropic-ai/claude-code@$CLAUDE_VERSION"
fi

# Check both CLIs start; their state goes to a throwaway folder, not to ~/.codex or ~/.claude.
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/codex" "$state/claude"
codex_v=$(CODEX_HOME=$state/codex "$bin/codex" --version 2>&1) || { echo "error: $bin/codex --version failed: $codex_v" >&2; exit 1; }
claude_v=$(CLAUDE_CONFIG_DIR=$state/claude "$bin/claude" --version 2>&1) || { echo "error: $bin/claude --version failed: $claude_v" >&2; exit 1; }
[[ $codex_v == *"$CODEX_VERSION"* ]] || { echo "error: unexpected codex version: $codex_v" >&2; exit 1; }
[[ $claude_v == *"$CLAUDE_VERSION"* ]] || { echo "error: unexpected claude version: $claude_v" >&2; exit 1; }
echo "harnesses ready in $bin: codex $CODEX_VERSION, claude $CLAUDE_VERSION" >&2
