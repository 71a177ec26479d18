#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster: Debian's postgresql (installed when missing), a fresh cluster in
# a private temp directory on 127.0.0.1 and a free port, role and database `idp`; stopped and removed on exit, even on
# failure. The command gets IDP_TEST_PG_URL (no password in it) and PGPASSWORD. Usage: bash .ci/with-pg.sh CMD [ARG...]
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: bash .ci/with-pg.sh CMD [ARG...]" >&2; exit 2; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bin)" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
bin="$(pg_bin)"

# initdb refuses root: as root the cluster belongs to the `postgres` system user, otherwise to whoever runs this.
dir="$(mktemp -d "${TMPDIR:-/tmp}/idp-pg.XXXXXX")"
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_owner() { runuser -u postgres -- "$@"; }
else
  as_owner() { "$@"; }
fi
cleanup() {
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

port="$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")"
password="$(node -e "console.log(require('node:crypto').randomBytes(18).toString('base64url'))")"

as_owner "$bin/initdb" --no-sync --auth-local=trust --auth-host=scram-sha-256 -U postgres -D "$dir/data" >/dev/null
# A throwaway cluster: no fsync (a crash of the machine loses nothing worth keeping), room for every test's pools.
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s start \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300" ||
  { cat "$dir/server.log" >&2; exit 1; }
as_owner "$bin/psql" -q -X -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
  -c "CREATE ROLE idp LOGIN CREATEDB PASSWORD '$password'" -c "CREATE DATABASE idp OWNER idp"

export IDP_TEST_PG_URL="postgres://idp@127.0.0.1:$port/idp"
export PGPASSWORD="$password"
# The command runs in the background (stdin kept) and is waited for: a signal to this script then stops it and the
# cluster at once, where bash would otherwise hold its traps until a foreground command ended by itself.
"$@" <&0 &
child=$!
stop() {
  kill -TERM "$child" 2>/dev/null
  wait "$child"
  exit "$1"
}
trap 'stop 129' HUP
trap 'stop 130' INT
trap 'stop 141' PIPE
trap 'stop 143' TERM
set +e
wait "$child"
status=$?
set -e
exit "$status"
