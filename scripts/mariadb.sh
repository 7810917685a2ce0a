#!/usr/bin/env bash
# Starts a private MariaDB (Debian's packages; installed if missing) on
# 127.0.0.1:33069 with a new, empty utf8mb4 database (djedge_test, or the
# name given; dropped and made again on every call), and prints its URL.
set -euo pipefail
port=33069
data=${DJEDGE_MARIADB_DATA:-/tmp/djedge-mariadb}
socket=/tmp/djedge-mariadb.sock
db=${1:-djedge_test}
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "mariadb: $db is not a plain database name" >&2; exit 2; }
url="mysql://djedge:djedge@127.0.0.1:$port/$db"

if ! command -v mariadbd >/dev/null; then
  echo "mariadb: installing Debian's mariadb-server" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >&2
fi
user=$(id -un)
if ! mariadb-admin --socket="$socket" -uroot ping >/dev/null 2>&1; then
  if [ ! -d "$data/mysql" ]; then
    mkdir -p "$data"
    mariadb-install-db --user="$user" --datadir="$data" --auth-root-authentication-method=normal >/dev/null
  fi
  # Its own process group, so that it outlives this script's caller only as a server.
  setsid mariadbd --user="$user" --datadir="$data" --port="$port" --bind-address=127.0.0.1 \
    --socket="$socket" --pid-file="$data/mariadb.pid" >"$data.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    mariadb-admin --socket="$socket" -uroot ping >/dev/null 2>&1 && break
    sleep 1
  done
fi
mariadb --socket="$socket" -uroot <<SQL
DROP DATABASE IF EXISTS $db;
CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'djedge'@'%' IDENTIFIED BY 'djedge';
CREATE USER IF NOT EXISTS 'djedge'@'localhost' IDENTIFIED BY 'djedge';
CREATE USER IF NOT EXISTS 'djedge'@'127.0.0.1' IDENTIFIED BY 'djedge';
GRANT ALL ON *.* TO 'djedge'@'%';
GRANT ALL ON *.* TO 'djedge'@'localhost';
GRANT ALL ON *.* TO 'djedge'@'127.0.0.1';
SQL
echo "$url"
