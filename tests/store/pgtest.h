/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PostgreSQL for the store's tests: a fresh database per test case on the
 * server named by MAGASSAY_TEST_PG (scripts/pg-test-server.sh starts one),
 * and raw access to it for the checks a test makes behind the store's back. */
#ifndef MG_TEST_PGTEST_H
#define MG_TEST_PGTEST_H

#include <stddef.h>

/* MAGASSAY_TEST_PG, or NULL when unset or empty. */
const char *mg_test_pg_base(void);
/* Skip (exit 77) with a message when MAGASSAY_TEST_PG is not set. */
const char *mg_test_pg_require(void);
/* CREATE DATABASE mgtest_<pid>_<n> on that server; its URL (malloc'ed), or
 * NULL (message on stderr). Remembered for mg_test_pg_drop_all(). */
char *mg_test_pg_create(void);
/* DROP every database this process created. */
void mg_test_pg_drop_all(void);
/* One integer from a query (-1 on error, message on stderr). */
long long mg_test_pg_int(const char *url, const char *sql);
/* Run a script; 0 on success, else -1 with the server's message in err. */
int mg_test_pg_exec(const char *url, const char *sql, char *err, size_t cap);
/* A connection kept open (e.g. to hold a lock): NULL on failure. */
void *mg_test_pg_connect(const char *url);
int mg_test_pg_conn_exec(void *conn, const char *sql, char *err, size_t cap);
void mg_test_pg_close(void *conn);

#endif
