# Sourced by the install scripts: the helpers they share. Expects `prefix` (the npm prefix the
# caller installs into) to be set before installed_version is called.

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"

# Runs a command quietly; shows its output only when it fails.
quiet() {
  local log rc=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 || rc=$?
  ((rc == 0)) || { cat "$log" >&2; echo "error: failed ($rc): $*" >&2; }
  rm -f "$log"
  return "$rc"
}

# Installs Debian packages (apt-get update first), quietly.
apt_install() {
  quiet $SUDO apt-get update -qq
  quiet $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# Package name -> its version in $prefix/node_modules, or nothing.
installed_version() {
  local pj="$prefix/node_modules/$1/package.json"
  [[ -f $pj ]] && sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pj" | head -n1
  return 0
}

# Makes $prefix an npm project of its own (so npm does not walk up to a parent project) named $1.
npm_prefix() {
  mkdir -p "$prefix"
  [[ -f $prefix/package.json ]] || echo "{\"name\":\"$1\",\"private\":true}" >"$prefix/package.json"
}
