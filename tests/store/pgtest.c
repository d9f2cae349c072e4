/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PostgreSQL for the store's tests: see pgtest.h. */
#include "pgtest.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define MAX_DBS 128

static char *created[MAX_DBS];
static int n_created;

const char *mg_test_pg_base(void)
{
	const char *u = getenv("MAGASSAY_TEST_PG");
	return u && *u ? u : NULL;
}

const char *mg_test_pg_require(void)
{
	const char *u = mg_test_pg_base();
	if (!u)
		mg_test_skip("MAGASSAY_TEST_PG is not set: no PostgreSQL server to test against "
		             "(scripts/test.sh starts one with scripts/pg-test-server.sh when PostgreSQL is installed)");
	return u;
}

static void append(char **s, size_t *len, size_t *cap, const char *t)
{
	size_t n = strlen(t);
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*s = realloc(*s, *cap);
	}
	memcpy(*s + *len, t, n + 1);
	*len += n;
}

/* base with its database replaced by dbname, as a URI with every parameter in the query string. */
static char *url_with_db(const char *base, const char *dbname)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(base, &err);
	if (!opts) {
		fprintf(stderr, "MAGASSAY_TEST_PG: %s", err ? err : "cannot be parsed\n");
		PQfreemem(err);
		return NULL;
	}
	char *s = NULL;
	size_t len = 0, cap = 0;
	append(&s, &len, &cap, "postgresql:///");
	append(&s, &len, &cap, dbname);
	char sep = '?';
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (!o->val || strcmp(o->keyword, "dbname") == 0)
			continue;
		char kv[8];
		snprintf(kv, sizeof(kv), "%c", sep);
		append(&s, &len, &cap, kv);
		append(&s, &len, &cap, o->keyword);
		append(&s, &len, &cap, "=");
		for (const char *v = o->val; *v; v++) {
			char enc[4];
			unsigned char c = (unsigned char)*v;
			if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~/", c))
				snprintf(enc, sizeof(enc), "%c", c);
			else
				snprintf(enc, sizeof(enc), "%%%02X", c);
			append(&s, &len, &cap, enc);
		}
		sep = '&';
	}
	PQconninfoFree(opts);
	return s;
}

static PGconn *connect_ok(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pgtest: cannot connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	return c;
}

char *mg_test_pg_create(void)
{
	static int n;
	const char *base = mg_test_pg_require();
	char name[64], sql[128];
	snprintf(name, sizeof(name), "mgtest_%d_%d", (int)getpid(), ++n);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (mg_test_pg_exec(base, sql, NULL, 0) != 0)
		return NULL;
	if (n_created < MAX_DBS)
		created[n_created++] = strdup(name);
	return url_with_db(base, name);
}

void mg_test_pg_drop_all(void)
{
	const char *base = mg_test_pg_base();
	for (int i = 0; i < n_created; i++) {
		char sql[128], err[256];
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", created[i]);
		if (base && mg_test_pg_exec(base, sql, err, sizeof(err)) != 0)
			fprintf(stderr, "pgtest: %s: %s\n", sql, err);
		free(created[i]);
	}
	n_created = 0;
}

long long mg_test_pg_int(const char *url, const char *sql)
{
	PGconn *c = connect_ok(url);
	long long v = -1;
	if (!c)
		return -1;
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) >= 1 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "pgtest: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return v;
}

int mg_test_pg_conn_exec(void *conn, const char *sql, char *err, size_t cap)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok && err)
		snprintf(err, cap, "%s", PQerrorMessage(conn));
	PQclear(r);
	return ok ? 0 : -1;
}

int mg_test_pg_exec(const char *url, const char *sql, char *err, size_t cap)
{
	PGconn *c = connect_ok(url);
	if (!c) {
		if (err)
			snprintf(err, cap, "cannot connect");
		return -1;
	}
	int rc = mg_test_pg_conn_exec(c, sql, err, cap);
	PQfinish(c);
	return rc;
}

void *mg_test_pg_connect(const char *url)
{
	return connect_ok(url);
}

void mg_test_pg_close(void *conn)
{
	if (conn)
		PQfinish(conn);
}
