#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Install what is missing, build, and run the whole test suite with ctest.
# Tests that need ../shared/data or PyMca skip with a message where those are absent.
# The store's PostgreSQL tests run against a throwaway server (scripts/pg-test-server.sh,
# a Unix socket in a temporary folder, stopped on exit) unless MAGASSAY_TEST_PG names
# one already; without PostgreSQL installed they skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh "$@"
scripts/build.sh
if [ -z "${MAGASSAY_TEST_PG:-}" ] && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
  pg_dir="$(mktemp -d /tmp/magassay-pg.XXXXXX)"
  trap 'scripts/pg-test-server.sh stop "$pg_dir"' EXIT
  if url="$(scripts/pg-test-server.sh start "$pg_dir")"; then
    export MAGASSAY_TEST_PG="$url"
  else
    echo "magassay: could not start a PostgreSQL test server; the PostgreSQL tests will skip" >&2
  fi
fi
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j"$(nproc)"
