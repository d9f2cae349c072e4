#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A throwaway PostgreSQL server for the tests: a Unix socket in DIR, no TCP.
#   scripts/pg-test-server.sh start DIR   initdb into DIR (if needed) and start (idempotent)
#   scripts/pg-test-server.sh url DIR     print the URL of its 'postgres' database
#   scripts/pg-test-server.sh stop DIR    stop it (fast) and remove DIR
# As root the server runs as the unprivileged 'postgres' user; a superuser role
# named after the invoking user (root -> root) is created. Needs the Debian
# packages postgresql and libpq-dev (scripts/install-deps.sh).
set -euo pipefail

PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|url DIR" >&2
  exit 2
fi
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
me="$(id -un)"

# Run a command as the server's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

url() {
  echo "postgresql:///postgres?host=$dir"
}

case "$cmd" in
start)
  [ -x "$PGBIN/initdb" ] || { echo "$0: no PostgreSQL server binaries in $PGBIN" >&2; exit 1; }
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      id postgres >/dev/null 2>&1 || { echo "$0: no 'postgres' user to run the server as" >&2; exit 1; }
      chown postgres: "$dir"
      chmod 0755 "$dir"
    fi
    as_owner "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if ! as_owner "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  fi
  if [ "$me" != postgres ]; then
    as_owner "$PGBIN/../bin/psql" -X -q -h "$dir" -U postgres -d postgres -v ON_ERROR_STOP=1 -v me="$me" >/dev/null <<'EOF' 2>/dev/null ||
SELECT format('CREATE ROLE %I SUPERUSER LOGIN', :'me') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'me') \gexec
EOF
      { echo "$0: could not create the role $me" >&2; exit 1; }
  fi
  url
  ;;
url)
  url
  ;;
stop)
  if [ -f "$dir/data/PG_VERSION" ]; then
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop|url DIR" >&2
  exit 2
  ;;
esac
