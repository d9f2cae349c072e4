/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store's SQL layer (db.h) on PostgreSQL through libpq: statements run
 * with PQexecParams (text parameters, ?N rewritten to $N) on the first step
 * and their whole result is kept and walked row by row, so a listing's
 * callback may run other queries on the same connection. Writers are
 * serialized with a transaction-level advisory lock (as SQLite's BEGIN
 * IMMEDIATE does), waiting up to the busy timeout (lock_timeout). SQLSTATEs
 * are mapped to mg_err codes; a URL's password never reaches a message. */
#include <ctype.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db_backend.h"
#include "store_internal.h"

/* pg_advisory_xact_lock key of the store's write lock: "MGSAWRIT". */
#define WRITE_LOCK_KEY 0x4D47534157524954LL

#define OID_INT8 20
#define OID_TEXT 25
#define OID_FLOAT8 701

typedef struct pg_db {
	db_conn base;
	PGconn *h;
	char where[512]; /* the URL, password masked */
	int busy_ms;
	long long changes;
	/* The last failure. */
	char state[6];
	char msg[512];
	int lost;
} pg_db;

typedef struct pg_stmt {
	db_stmt base;
	pg_db *c;
	char *sql; /* with $N placeholders */
	int nparams;
	char **vals;
	Oid *types;
	PGresult *res;
	int row, nrows;
} pg_stmt;

static int pg_exec(db_conn *c_, const char *sql);
static int pg_fail(db_conn *c_, const char *what);
static void pg_finalize(db_stmt *s_);
static void pg_rollback(db_conn *c_);

/* ---- URLs -------------------------------------------------------------------- */

void db_mask_url(const char *url, char *out, unsigned long cap)
{
	size_t o = 0, n = strlen(url);
	if (!cap)
		return;
	const char *scheme = strstr(url, "://");
	size_t user_end = 0, at = 0; /* the password is url[user_end+1 .. at) */
	if (scheme) {
		size_t a = (size_t)(scheme - url) + 3, end = a;
		while (end < n && url[end] != '/' && url[end] != '?' && url[end] != '#')
			end++;
		for (size_t i = a; i < end; i++)
			if (url[i] == '@')
				at = i;
		if (at)
			for (size_t i = a; i < at; i++)
				if (url[i] == ':') {
					user_end = i;
					break;
				}
	}
	for (size_t i = 0; i < n && o + 1 < cap;) {
		if (user_end && i == user_end + 1) {
			for (const char *m = "***"; *m && o + 1 < cap; m++)
				out[o++] = *m;
			i = at;
			continue;
		}
		/* password=... in a query string or a key/value string */
		if ((i == 0 || url[i - 1] == '?' || url[i - 1] == '&' || url[i - 1] == ' ') &&
		    strncasecmp(url + i, "password=", 9) == 0) {
			for (const char *m = "password=***"; *m && o + 1 < cap; m++)
				out[o++] = *m;
			i += 9;
			if (i < n && url[i] == '\'') { /* a quoted key/value */
				for (i++; i < n && url[i] != '\''; i++)
					if (url[i] == '\\' && i + 1 < n)
						i++;
				if (i < n)
					i++;
			} else {
				while (i < n && url[i] != '&' && url[i] != ' ')
					i++;
			}
			continue;
		}
		out[o++] = url[i++];
	}
	out[o] = '\0';
}

/* ---- the connection ------------------------------------------------------------ */

static void trim_copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
	for (size_t n = strlen(dst); n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '); n--)
		dst[n - 1] = '\0';
}

static void remember(pg_db *c, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	snprintf(c->state, sizeof(c->state), "%s", state ? state : "");
	trim_copy(c->msg, sizeof(c->msg), msg ? msg : PQerrorMessage(c->h));
	c->lost = PQstatus(c->h) == CONNECTION_BAD;
	if (c->lost && !c->msg[0])
		snprintf(c->msg, sizeof(c->msg), "the connection was closed");
}

static void remember_text(pg_db *c, const char *state, const char *msg)
{
	snprintf(c->state, sizeof(c->state), "%s", state);
	trim_copy(c->msg, sizeof(c->msg), msg);
	c->lost = PQstatus(c->h) == CONNECTION_BAD;
}

/* The server's notices go to the log, never to stderr. */
static void on_notice(void *arg, const char *message)
{
	char m[512];
	(void)arg;
	trim_copy(m, sizeof(m), message);
	mg_dbg(STORE_DOM, "server: %s", m);
}

static void pg_close(db_conn *c_)
{
	pg_db *c = (pg_db *)c_;
	if (!c)
		return;
	if (c->h)
		PQfinish(c->h);
	free(c);
}

static const char *pg_where(const db_conn *c_)
{
	const pg_db *c = (const pg_db *)c_;
	return c->where;
}

static int pg_readonly(db_conn *c_)
{
	(void)c_;
	return 0; /* the server says so when a write is tried */
}

static int pg_set_busy_timeout(db_conn *c_, int ms)
{
	pg_db *c = (pg_db *)c_;
	c->busy_ms = ms;
	return MG_OK;
}

static int pg_busy_timeout(const db_conn *c_)
{
	const pg_db *c = (const pg_db *)c_;
	return c->busy_ms;
}

/* ---- statements ------------------------------------------------------------ */

/* ?N -> $N outside quoted strings and identifiers; returns the highest N, or -1
 * for a bare '?' (not supported). */
static int rewrite(const char *sql, char *out)
{
	int max = 0;
	char q = 0;
	for (const char *p = sql; *p; p++) {
		if (q) {
			if (*p == q)
				q = 0;
			*out++ = *p;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			q = *p;
			*out++ = *p;
			continue;
		}
		if (*p == '?') {
			if (!isdigit((unsigned char)p[1]))
				return -1;
			int n = 0;
			*out++ = '$';
			while (isdigit((unsigned char)p[1])) {
				n = n * 10 + (p[1] - '0');
				*out++ = *++p;
			}
			if (n > max)
				max = n;
			continue;
		}
		*out++ = *p;
	}
	*out = '\0';
	return max;
}

static db_stmt *pg_prepare(db_conn *c_, const char *sql, int persistent, const char *what)
{
	pg_db *c = (pg_db *)c_;
	(void)persistent;
	pg_stmt *s = calloc(1, sizeof(*s));
	if (!s || !(s->sql = malloc(strlen(sql) + 1))) {
		free(s);
		mg_fail(MG_ERR_NOMEM, STORE_DOM, "%s: out of memory", what);
		return NULL;
	}
	s->c = c;
	s->row = -1;
	int n = rewrite(sql, s->sql);
	if (n < 0) {
		pg_finalize(&s->base);
		mg_fail(MG_ERR_ARG, STORE_DOM, "%s: a query uses '?' without a number", what);
		return NULL;
	}
	s->base.ops = &db_pg_ops;
	s->nparams = n;
	if (n && (!(s->vals = calloc((size_t)n, sizeof(*s->vals))) || !(s->types = calloc((size_t)n, sizeof(*s->types))))) {
		pg_finalize(&s->base);
		mg_fail(MG_ERR_NOMEM, STORE_DOM, "%s: out of memory", what);
		return NULL;
	}
	return &s->base;
}

static int bind(pg_stmt *s, int i, const char *v, Oid type)
{
	if (i < 1 || i > s->nparams)
		return DB_ERROR;
	free(s->vals[i - 1]);
	s->vals[i - 1] = NULL;
	s->types[i - 1] = type;
	if (v && !(s->vals[i - 1] = strdup(v)))
		return DB_ERROR;
	return DB_OK;
}

static int pg_bind_int64(db_stmt *s_, int i, long long v)
{
	pg_stmt *s = (pg_stmt *)s_;
	char b[32];
	snprintf(b, sizeof(b), "%lld", v);
	return bind(s, i, b, OID_INT8);
}

static int pg_bind_double(db_stmt *s_, int i, double v)
{
	pg_stmt *s = (pg_stmt *)s_;
	char b[40];
	if (!isfinite(v))
		return bind(s, i, NULL, OID_FLOAT8);
	snprintf(b, sizeof(b), "%.17g", v);
	return bind(s, i, b, OID_FLOAT8);
}

static int pg_bind_text(db_stmt *s_, int i, const char *v)
{
	pg_stmt *s = (pg_stmt *)s_;
	return bind(s, i, v, OID_TEXT);
}

static int pg_bind_null(db_stmt *s_, int i)
{
	pg_stmt *s = (pg_stmt *)s_;
	return bind(s, i, NULL, 0);
}

static int pg_step(db_stmt *s_)
{
	pg_stmt *s = (pg_stmt *)s_;
	if (s->row >= 0) {
		if (s->row < s->nrows)
			s->row++;
		return s->row < s->nrows ? DB_ROW : DB_DONE;
	}
	PQclear(s->res);
	s->res = PQexecParams(s->c->h, s->sql, s->nparams, s->types, (const char *const *)s->vals, NULL, NULL, 0);
	ExecStatusType st = s->res ? PQresultStatus(s->res) : PGRES_FATAL_ERROR;
	if (st == PGRES_TUPLES_OK) {
		s->nrows = PQntuples(s->res);
		s->row = 0;
		return s->nrows > 0 ? DB_ROW : DB_DONE;
	}
	if (st == PGRES_COMMAND_OK) {
		const char *t = PQcmdTuples(s->res);
		s->c->changes = t && *t ? atoll(t) : 0;
		s->nrows = 0;
		s->row = 0;
		return DB_DONE;
	}
	remember(s->c, s->res);
	PQclear(s->res);
	s->res = NULL;
	return DB_ERROR;
}

static const char *cell(pg_stmt *s, int i)
{
	if (!s->res || s->row < 0 || s->row >= s->nrows || i < 0 || i >= PQnfields(s->res) ||
	    PQgetisnull(s->res, s->row, i))
		return NULL;
	return PQgetvalue(s->res, s->row, i);
}

static long long pg_col_int64(db_stmt *s_, int i)
{
	pg_stmt *s = (pg_stmt *)s_;
	const char *v = cell(s, i);
	if (!v)
		return 0;
	if (v[0] == 't' && !v[1])
		return 1; /* a boolean */
	return strtoll(v, NULL, 10);
}

static double pg_col_double(db_stmt *s_, int i)
{
	pg_stmt *s = (pg_stmt *)s_;
	const char *v = cell(s, i);
	return v ? strtod(v, NULL) : NAN;
}

static const char *pg_col_text(db_stmt *s_, int i)
{
	pg_stmt *s = (pg_stmt *)s_;
	return cell(s, i);
}

static int pg_col_is_null(db_stmt *s_, int i)
{
	pg_stmt *s = (pg_stmt *)s_;
	return cell(s, i) == NULL;
}

static void pg_reset(db_stmt *s_)
{
	pg_stmt *s = (pg_stmt *)s_;
	PQclear(s->res);
	s->res = NULL;
	s->row = -1;
	s->nrows = 0;
	for (int i = 0; i < s->nparams; i++) {
		free(s->vals[i]);
		s->vals[i] = NULL;
		s->types[i] = 0;
	}
}

static void pg_finalize(db_stmt *s_)
{
	pg_stmt *s = (pg_stmt *)s_;
	if (!s)
		return;
	if (s->vals)
		pg_reset(s_);
	else
		PQclear(s->res);
	free(s->vals);
	free(s->types);
	free(s->sql);
	free(s);
}

static long long pg_changes(db_conn *c_)
{
	pg_db *c = (pg_db *)c_;
	return c->changes;
}

static int pg_last_id(db_conn *c_, long long *id)
{
	pg_db *c = (pg_db *)c_;
	PGresult *r = PQexec(c->h, "SELECT lastval()");
	int ok = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	if (ok)
		*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	else
		remember(c, r);
	PQclear(r);
	return ok ? DB_OK : DB_ERROR;
}

/* ---- scripts and transactions ------------------------------------------------ */

static int pg_exec(db_conn *c_, const char *sql)
{
	pg_db *c = (pg_db *)c_;
	PGresult *r = PQexec(c->h, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (ok) {
		const char *t = PQcmdTuples(r);
		c->changes = t && *t ? atoll(t) : 0;
	} else {
		remember(c, r);
	}
	PQclear(r);
	return ok ? DB_OK : DB_ERROR;
}

static int pg_begin_write(db_conn *c_)
{
	pg_db *c = (pg_db *)c_;
	char sql[160];
	/* lock_timeout 0 would mean "wait for ever"; a zero busy timeout means "do not wait". */
	snprintf(sql, sizeof(sql), "BEGIN; SET LOCAL lock_timeout = %d; SELECT pg_advisory_xact_lock(%lld)",
	         c->busy_ms > 0 ? c->busy_ms : 1, WRITE_LOCK_KEY);
	if (pg_exec(c_, sql) == DB_OK)
		return DB_OK;
	char state[6], msg[512];
	int lost = c->lost;
	memcpy(state, c->state, sizeof(state));
	memcpy(msg, c->msg, sizeof(msg));
	pg_rollback(c_);
	memcpy(c->state, state, sizeof(state));
	memcpy(c->msg, msg, sizeof(msg));
	c->lost = lost;
	return DB_ERROR;
}

static int pg_begin_read(db_conn *c_)
{
	return pg_exec(c_, "BEGIN ISOLATION LEVEL REPEATABLE READ");
}

static int pg_commit(db_conn *c_)
{
	pg_db *c = (pg_db *)c_;
	if (PQtransactionStatus(c->h) == PQTRANS_INERROR) {
		remember_text(c, "25P02", "the transaction was aborted by an earlier error");
		return DB_ERROR;
	}
	return pg_exec(c_, "COMMIT");
}

static void pg_rollback(db_conn *c_)
{
	pg_db *c = (pg_db *)c_;
	PGTransactionStatusType t = PQtransactionStatus(c->h);
	if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR) {
		PGresult *r = PQexec(c->h, "ROLLBACK");
		PQclear(r);
	}
}

static int pg_in_transaction(db_conn *c_)
{
	pg_db *c = (pg_db *)c_;
	PGTransactionStatusType t = PQtransactionStatus(c->h);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static const char *pg_now_sql(const db_conn *c_)
{
	(void)c_;
	return "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

/* ---- errors ---------------------------------------------------------------------- */

static int pg_fail(db_conn *c_, const char *what)
{
	pg_db *c = (pg_db *)c_;
	const char *s = c->state, *msg = c->msg, *where = c->where;
	if (c->lost || PQstatus(c->h) == CONNECTION_BAD || strncmp(s, "08", 2) == 0 || strncmp(s, "57P", 3) == 0)
		return mg_fail(MG_ERR_IO, STORE_DOM, "%s: lost the connection to the database server %s: %s", what, where,
		               msg[0] ? msg : "the connection was closed");
	if (strcmp(s, "55P03") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "40001") == 0)
		return mg_fail(MG_ERR_BUSY, STORE_DOM,
		               "%s: the database %s is locked by another process (waited %d ms): %s", what, where,
		               c->busy_ms, msg);
	if (strcmp(s, "25006") == 0)
		return mg_fail(MG_ERR_IO, STORE_DOM,
		               "%s: the database %s is read-only (permissions, or opened read-only): %s", what, where,
		               msg);
	if (strcmp(s, "23505") == 0)
		return mg_fail(MG_ERR_EXISTS, STORE_DOM, "%s: already registered (%s)", what, msg);
	if (strcmp(s, "23503") == 0)
		return mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "%s: refers to a record that does not exist (%s)", what, msg);
	if (strncmp(s, "23", 2) == 0 || strncmp(s, "22", 2) == 0 || strcmp(s, "P0001") == 0)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "%s: refused by the database: %s", what, msg);
	if (strcmp(s, "53100") == 0)
		return mg_fail(MG_ERR_NOSPACE, STORE_DOM, "%s: no room to write the database %s: %s; nothing was changed",
		               what, where, msg);
	if (strcmp(s, "53200") == 0)
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "%s: the database server is out of memory: %s", what, msg);
	if (strncmp(s, "42501", 5) == 0 || strncmp(s, "28", 2) == 0)
		return mg_fail(MG_ERR_IO, STORE_DOM, "%s: not allowed by the database %s: %s", what, where, msg);
	return mg_fail(MG_ERR_IO, STORE_DOM, "%s: database error: %s%s%s%s", what, msg, s[0] ? " (SQLSTATE " : "", s,
	               s[0] ? ")" : "");
}

const struct db_ops db_pg_ops = {
	.backend = DB_PG,
	.close = pg_close,
	.where = pg_where,
	.readonly = pg_readonly,
	.set_busy_timeout = pg_set_busy_timeout,
	.busy_timeout = pg_busy_timeout,
	.prepare = pg_prepare,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_text = pg_bind_text,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.col_int64 = pg_col_int64,
	.col_double = pg_col_double,
	.col_text = pg_col_text,
	.col_is_null = pg_col_is_null,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.changes = pg_changes,
	.last_id = pg_last_id,
	.exec = pg_exec,
	.begin_write = pg_begin_write,
	.begin_read = pg_begin_read,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.in_transaction = pg_in_transaction,
	.fail = pg_fail,
	.now_sql = pg_now_sql,
};

int db_open_pg(const char *url, int readonly, db_conn **out)
{
	pg_db *c = calloc(1, sizeof(*c));
	*out = NULL;
	if (!c)
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	c->base.ops = &db_pg_ops;
	*out = &c->base;
	c->busy_ms = MG_STORE_BUSY_TIMEOUT_MS;
	db_mask_url(url, c->where, sizeof(c->where));
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &perr);
	if (!opts) {
		char m[512];
		trim_copy(m, sizeof(m), perr ? perr : "out of memory");
		PQfreemem(perr);
		return mg_fail(MG_ERR_ARG, STORE_DOM, "opening the store: the database URL %s is not valid: %s", c->where,
		               m);
	}
	PQconninfoFree(opts);
	c->h = PQconnectdb(url);
	if (!c->h)
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "opening the store: out of memory");
	if (PQstatus(c->h) != CONNECTION_OK) {
		char m[512];
		trim_copy(m, sizeof(m), PQerrorMessage(c->h));
		return mg_fail(MG_ERR_IO, STORE_DOM, "opening the store: cannot connect to the database %s: %s",
		               c->where, m);
	}
	PQsetNoticeProcessor(c->h, on_notice, NULL);
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SET client_min_messages = warning; SET client_encoding = 'UTF8'; SET extra_float_digits = 3; "
	         "SET application_name = 'magassay'%s",
	         readonly ? "; SET default_transaction_read_only = on" : "");
	if (pg_exec(&c->base, sql) != DB_OK)
		return pg_fail(&c->base, "opening the store");
	return MG_OK;
}
