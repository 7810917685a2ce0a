#!/usr/bin/env bash
# Starts a private PostgreSQL (Debian's packages; installed if missing) on
# 127.0.0.1:54329 with a new, empty database (djedge_test, or the name
# given; dropped and made again on every call, so ids and schema never carry
# over), and prints its URL.
set -euo pipefail
port=54329
data=${DJEDGE_PG_DATA:-/tmp/djedge-postgres}
db=${1:-djedge_test}
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "postgres: $db is not a plain database name" >&2; exit 2; }
url="postgres://djedge:djedge@127.0.0.1:$port/$db"

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/postgres" ]; then
  echo "postgres: installing Debian's postgresql" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
# PostgreSQL refuses to run as root: run it as its own user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data" && { [ "$(id -u)" != 0 ] || chown postgres: "$data"; }
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  as_pg "$bin/pg_ctl" -D "$data" -l "$data/log" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -w start >/dev/null
fi
psql_admin() { psql -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'djedge'" | grep -q 1 \
  || psql_admin -c "CREATE ROLE djedge LOGIN SUPERUSER PASSWORD 'djedge'"
psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
psql_admin -c "CREATE DATABASE $db OWNER djedge"
echo "$url"
