/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Resolving a user's id (for `magassay show`) and the integrity check. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

void mg_found_clear(mg_found *f)
{
	if (!f)
		return;
	free(f->id);
	memset(f, 0, sizeof(*f));
}

#define MAX_MATCHES 8

typedef struct match {
	enum mg_found_kind kind;
	char *id;
	long long mid;
} match;

static const char *kind_name(enum mg_found_kind k)
{
	return k == MG_FOUND_BATCH ? "batch" : k == MG_FOUND_SAMPLE ? "sample" : "measurement";
}

static int add_match(match *m, int *n, enum mg_found_kind kind, const char *id, long long mid)
{
	for (int i = 0; i < *n; i++)
		if (m[i].kind == kind && (kind == MG_FOUND_MEASUREMENT ? m[i].mid == mid : strcmp(m[i].id, id) == 0))
			return MG_OK; /* the same record found twice (id and UUID prefix) */
	if (*n >= MAX_MATCHES)
		return MG_OK;
	if (!(m[*n].id = strdup(id)))
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	m[*n].kind = kind;
	m[*n].mid = mid;
	(*n)++;
	return MG_OK;
}

static int is_uuid_prefix(const char *q)
{
	size_t n = strlen(q);
	if (n < 8 || n > 36)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)q[i]) && q[i] != '-')
			return 0;
	return 1;
}

int mg_store_find(mg_store *st, const char *query, mg_found *out)
{
	static const struct {
		const char *prefix;
		enum mg_found_kind kind;
	} prefixes[] = {{"batch:", MG_FOUND_BATCH}, {"sample:", MG_FOUND_SAMPLE}, {"measurement:", MG_FOUND_MEASUREMENT}};
	if (!st || !query || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_find: bad arguments");
	memset(out, 0, sizeof(*out));
	const char *q = query;
	int only = 0;
	for (size_t i = 0; i < MG_ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i].prefix);
		if (strncmp(q, prefixes[i].prefix, n) == 0) {
			only = prefixes[i].kind;
			q += n;
			break;
		}
	}
	if (!*q)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "nothing to look for: give a batch, sample or measurement id");

	match m[MAX_MATCHES];
	int n = 0, e = MG_OK;
	int valid_id = store_id_check("id", q) == MG_OK;
	if (valid_id && (!only || only == MG_FOUND_BATCH)) {
		mg_batch b;
		e = mg_store_batch_get(st, q, &b);
		if (e == MG_OK)
			e = add_match(m, &n, MG_FOUND_BATCH, b.id, 0);
		else if (e == MG_ERR_NOT_FOUND)
			e = MG_OK;
		mg_batch_clear(&b);
	}
	if (e == MG_OK && valid_id && (!only || only == MG_FOUND_SAMPLE)) {
		mg_sample s;
		e = mg_store_sample_get(st, q, &s);
		if (e == MG_OK)
			e = add_match(m, &n, MG_FOUND_SAMPLE, s.id, 0);
		else if (e == MG_ERR_NOT_FOUND)
			e = MG_OK;
		mg_sample_clear(&s);
	}
	if (e == MG_OK && (!only || only == MG_FOUND_MEASUREMENT)) {
		size_t len = strlen(q), digits = strspn(q, "0123456789");
		mg_measurement x;
		if (len == digits && len <= 18) {
			e = mg_store_measurement_get(st, strtoll(q, NULL, 10), &x);
			if (e == MG_OK)
				e = add_match(m, &n, MG_FOUND_MEASUREMENT, x.uuid, x.id);
			else if (e == MG_ERR_NOT_FOUND)
				e = MG_OK;
			mg_measurement_clear(&x);
		}
		if (e == MG_OK && is_uuid_prefix(q)) {
			char lower[MG_UUID_SIZE];
			for (size_t i = 0; i <= len; i++)
				lower[i] = (char)tolower((unsigned char)q[i]);
			db_stmt *s = stmt_get(st, S_MEAS_FIND_UUID_PREFIX);
			if (!s) {
				e = MG_ERR_IO;
			} else {
				int rc;
				bind_text(s, 1, lower);
				while (e == MG_OK && (rc = db_step(s)) == DB_ROW)
					e = add_match(m, &n, MG_FOUND_MEASUREMENT, db_col_text(s, 1),
					              db_col_int64(s, 0));
				if (e == MG_OK && rc != DB_DONE)
					e = store_sql_fail(st, "looking up a measurement");
				stmt_put(st, S_MEAS_FIND_UUID_PREFIX, s);
			}
		}
	}
	if (e == MG_OK && n == 0) {
		if (!valid_id && !only && !is_uuid_prefix(q))
			e = store_id_check("id", q); /* say what is wrong with it */
		else
			e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "no %s %s in the store at %s",
			            only ? kind_name((enum mg_found_kind)only) : "batch, sample or measurement", q, st->dir);
	} else if (e == MG_OK && n > 1) {
		char list[512];
		size_t o = 0;
		for (int i = 0; i < n && o < sizeof(list); i++) {
			if (m[i].kind == MG_FOUND_MEASUREMENT)
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%smeasurement %lld (%s)", i ? ", " : "",
				                      m[i].mid, m[i].id);
			else
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s %s", i ? ", " : "",
				                      kind_name(m[i].kind), m[i].id);
		}
		e = mg_fail(MG_ERR_ARG, STORE_DOM,
		            "%s is ambiguous: it names %s; say batch:ID, sample:ID or measurement:ID (numeric id "
		            "or full UUID)",
		            q, list);
	} else if (e == MG_OK) {
		out->kind = m[0].kind;
		out->id = m[0].id;
		out->measurement_id = m[0].mid;
		m[0].id = NULL;
	}
	for (int i = 0; i < n; i++)
		free(m[i].id);
	return e;
}

/* ---- integrity ------------------------------------------------------------ */

typedef struct check_ctx {
	mg_store *st;
	mg_check_cb cb;
	void *ud;
	int problems;
} check_ctx;

static void report(check_ctx *c, const char *what, long long mid, const char *msg)
{
	mg_check_issue is = {what, mid, msg};
	c->problems++;
	mg_warn(STORE_DOM, "check: %s: %s", what, msg);
	if (c->cb)
		c->cb(&is, c->ud);
}

static int check_measurement(const mg_measurement *m, void *ud)
{
	check_ctx *c = ud;
	const char *what = NULL;
	if (store_verify_file(c->st, m, NULL, &what) != MG_OK)
		report(c, what ? what : "file_missing", m->id, mg_error_detail());
	return 0;
}

/* SQLite's own checks of its file; PostgreSQL enforces keys itself and has
 * no equivalent to run here. Each problem found is reported. */
static int check_sqlite(mg_store *st, check_ctx *c)
{
	db_stmt *s = store_prepare(st, "PRAGMA integrity_check", "checking the database");
	if (!s)
		return MG_ERR_IO;
	int rc;
	while ((rc = db_step(s)) == DB_ROW) {
		const char *t = db_col_text(s, 0);
		if (t && strcmp(t, "ok") != 0)
			report(c, "integrity", 0, t);
	}
	db_finalize(s);
	if (rc != DB_DONE)
		return store_sql_fail(st, "checking the database");
	if (!(s = store_prepare(st, "PRAGMA foreign_key_check", "checking the database")))
		return MG_ERR_IO;
	while ((rc = db_step(s)) == DB_ROW) {
		char msg[256];
		snprintf(msg, sizeof(msg), "row %lld of table %s refers to a missing row of %s", db_col_int64(s, 1),
		         db_col_text(s, 0), db_col_text(s, 2));
		report(c, "foreign_key", 0, msg);
	}
	db_finalize(s);
	if (rc != DB_DONE)
		return store_sql_fail(st, "checking the database");
	return MG_OK;
}

int mg_store_check(mg_store *st, mg_check_cb cb, void *userdata)
{
	if (!st)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_check: no store");
	check_ctx c = {st, cb, userdata, 0};
	int e;
	if (!st->pg && (e = check_sqlite(st, &c)) != MG_OK)
		return e;
	int n = mg_store_measurements_list(st, NULL, NULL, check_measurement, &c);
	if (n < 0)
		return n;
	mg_info(STORE_DOM, "check of %s: %d measurement file(s), %d problem(s)", st->dir, n, c.problems);
	return c.problems;
}
