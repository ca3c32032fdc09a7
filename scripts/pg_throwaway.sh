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

# TLS on localhost TCP, for the sslmode tests: a throwaway CA, a server
# certificate for "localhost" signed by it, and an unrelated CA.
tls="$dir/tls"
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=gmstore test CA" \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=unrelated CA" \
  -keyout "$tls/other_ca.key" -out "$tls/other_ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf "subjectAltName=DNS:localhost\n" > "$tls/san.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
  -extfile "$tls/san.ext" -out "$tls/server.crt" 2>/dev/null
chmod 600 "$tls/server.key"
[ "$(id -u)" = 0 ] && chown -R postgres "$tls"

# fsync off: a test cluster need not survive the machine; commits are still
# synchronous, so a server killed mid-run keeps every acknowledged write.
# A free port is picked by trying: the server refuses to start on a taken one.
for attempt in 1 2 3 4 5; do
  port=$(( 20000 + (RANDOM * 7 + $$ + attempt * 977) % 30000 ))
  if as_server "$PGBIN/pg_ctl -D $dir/data -l $dir/server.log -w -o \"-k $dir/sock -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key\" start" >/dev/null; then
    break
  fi
  [ "$attempt" = 5 ] && { cat "$dir/server.log" >&2; exit 1; }
done

export GMSTORE_TEST_PG="host=$dir/sock port=$port user=postgres dbname=postgres"
export GMSTORE_TEST_PG_TLS="host=localhost port=$port user=postgres dbname=postgres"
export GMSTORE_TEST_PG_CA="$tls/ca.crt" GMSTORE_TEST_PG_OTHER_CA="$tls/other_ca.crt"
export GMSTORE_TEST_PG_DATA="$dir/data" GMSTORE_TEST_PG_BIN="$PGBIN"
echo "throwaway PostgreSQL at $dir/sock"
"$@"
