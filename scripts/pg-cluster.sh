#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests.
#   scripts/pg-cluster.sh start <dir>   creates <dir>, runs a cluster in it on a free TCP port of
#                                       127.0.0.1 (and a socket in <dir>), creates the database
#                                       mogplex_test and prints its connection string on stdout
#   scripts/pg-cluster.sh stop <dir>    stops that cluster and removes <dir>
# The cluster runs as an unprivileged user: the caller, or the `postgres` OS user when called as
# root (initdb refuses root; the user is created when missing). Installs Debian's `postgresql`
# package when no initdb is found. Durability is off (fsync, synchronous_commit): test data only.
# The superuser `postgres` has a random password (scram-sha-256 over TCP); the connection string
# carries it, so print it only where test output goes.
set -euo pipefail

usage() {
  echo "usage: $0 start <dir> | stop <dir>" >&2
  exit 2
}

log() { echo "pg-cluster: $*" >&2; }

find_bin() {
  local candidate
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x $candidate/initdb && -x $candidate/pg_ctl ]] && { echo "$candidate"; return 0; }
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

install_postgres() {
  log "initdb not found: installing the postgresql package"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq >&2
  # The package's own cluster is not used; policy-rc.d or the lack of an init system may keep it stopped.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
}

# Runs a command as the cluster's user.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

start() {
  local dir=$1
  if [[ -e $dir && -n $(ls -A "$dir" 2>/dev/null) ]]; then
    log "$dir exists and is not empty"
    exit 1
  fi

  local bin
  bin=$(find_bin) || { install_postgres; bin=$(find_bin) || { log "no initdb after installing postgresql"; exit 1; }; }

  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  touch "$dir/.mogplex-pg-cluster"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --user-group --home-dir /nonexistent --shell /usr/sbin/nologin postgres
    chown postgres: "$dir"
    chmod 0755 "$dir"
    as_owner test -w "$dir" || { log "user postgres cannot write $dir (a parent folder is not searchable by it)"; exit 1; }
  fi

  local password
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  printf '%s\n' "$password" >"$dir/pwfile"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir/pwfile"
  chmod 0600 "$dir/pwfile"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  rm -f "$dir/pwfile"

  # Free port: let postgres try to bind; a port taken meanwhile fails the start and we try another.
  local port attempt started=""
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      continue
    fi

    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >&2; then
      started=1
      break
    fi
    log "start on port $port failed (attempt $attempt)"
    tail -n 5 "$dir/postgres.log" >&2 || true
  done
  [[ -n $started ]] || { log "could not start postgres"; exit 1; }
  echo "$port" >"$dir/port"

  as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE DATABASE mogplex_test" >&2
  echo "Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=mogplex_test"
}

stop() {
  local dir=$1
  if [[ ! -e $dir ]]; then
    return 0
  fi

  [[ -e $dir/.mogplex-pg-cluster ]] || { log "$dir was not made by $0: not touching it"; exit 1; }
  if [[ -e $dir/data/postmaster.pid ]]; then
    local bin
    bin=$(find_bin) || { log "pg_ctl not found"; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  fi
  rm -rf "$dir"
}

[[ $# -eq 2 ]] || usage
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
