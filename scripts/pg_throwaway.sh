#!/usr/bin/env bash
# Runs a command with a private, throwaway PostgreSQL 15 cluster: initdb in
# a temporary folder, the server listening on a unix socket only (no TCP
# port to collide with), GMSTORE_TEST_PG set to reach it, and the cluster
# stopped and deleted when the command ends, whatever its outcome.
#
#   scripts/pg_throwaway.sh make test-suites
#
# With GMSTORE_TEST_PG already set (a server of your own) it only runs the
# command. As root, the server runs as the `postgres` user, which the
# postgresql-15 package creates.
set -euo pipefail

if [ -n "${GMSTORE_TEST_PG:-}" ]; then
  exec "$@"
fi

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ]; then
  echo "PostgreSQL 15 server binaries not found in $PGBIN: apt-get install postgresql-15 (.ci/run does)" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/gmstore-pg.XXXXXX)
chmod 755 "$dir"
mkdir -p "$dir/sock"
as_server() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}
[ "$(id -u)" = 0 ] && chown -R postgres "$dir"

stop() {
  as_server "$PGBIN/pg_ctl -D $dir/data -m fast -w stop" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

as_server "$PGBIN/initdb -D $dir/data -A trust -U postgres --no-sync" >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off: a test cluster need not survive the machine; commits are still
# synchronous, so a server killed mid-run keeps every acknowledged write.
as_server "$PGBIN/pg_ctl -D $dir/data -l $dir/server.log -w -o \"-k $dir/sock -c listen_addresses='' -c fsync=off -c max_connections=200\" start" >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }

export GMSTORE_TEST_PG="host=$dir/sock user=postgres dbname=postgres"
export GMSTORE_TEST_PG_DATA="$dir/data" GMSTORE_TEST_PG_BIN="$PGBIN"
echo "throwaway PostgreSQL at $dir/sock"
"$@"
