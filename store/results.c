/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Results and calibrations: append-only, versioned. A new version is computed
 * inside the write transaction, so concurrent writers never collide; the
 * database's triggers refuse any UPDATE or DELETE. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/version.h"
#include "store_internal.h"

#define SOFTWARE "magassay " MAGASSAY_VERSION_STRING

void mg_result_clear(mg_result *r)
{
	if (!r)
		return;
	free(r->software_version);
	free(r->created_at);
	free(r->payload_json);
	memset(r, 0, sizeof(*r));
}

void mg_calibration_clear(mg_calibration *c)
{
	if (!c)
		return;
	free(c->kind);
	free(c->name);
	free(c->created_at);
	free(c->operator_name);
	free(c->software_version);
	free(c->provenance_json);
	free(c->payload_json);
	memset(c, 0, sizeof(*c));
}

static int fill_result(db_stmt *s, mg_result *r, int copy)
{
	int err = 0;
	memset(r, 0, sizeof(*r));
	r->id = db_col_int64(s, 0);
	r->measurement_id = db_col_int64(s, 1);
	r->version = (int)db_col_int64(s, 2);
	r->calibration_id = db_col_int64(s, 3); /* NULL reads as 0 */
	r->software_version = col_text_as(s, 4, copy, &err);
	r->created_at = col_text_as(s, 5, copy, &err);
	r->payload_json = col_text_as(s, 6, copy, &err);
	if (err) {
		mg_result_clear(r);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	}
	return MG_OK;
}

static int fill_cal(db_stmt *s, mg_calibration *c, int copy)
{
	int err = 0;
	memset(c, 0, sizeof(*c));
	c->id = db_col_int64(s, 0);
	c->kind = col_text_as(s, 1, copy, &err);
	c->name = col_text_as(s, 2, copy, &err);
	c->version = (int)db_col_int64(s, 3);
	c->created_at = col_text_as(s, 4, copy, &err);
	c->operator_name = col_text_as(s, 5, copy, &err);
	c->software_version = col_text_as(s, 6, copy, &err);
	c->provenance_json = col_text_as(s, 7, copy, &err);
	c->payload_json = col_text_as(s, 8, copy, &err);
	if (err) {
		mg_calibration_clear(c);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	}
	return MG_OK;
}

/* Run a one-integer query (the next version number). */
static int next_version(mg_store *st, enum stmt_id sid, long long key, const char *k1, const char *k2,
                        const char *what, int *v)
{
	db_stmt *s = stmt_get(st, sid);
	if (!s)
		return MG_ERR_IO;
	if (k1) {
		bind_text(s, 1, k1);
		bind_text(s, 2, k2);
	} else {
		db_bind_int64(s, 1, key);
	}
	int rc = db_step(s), e = MG_OK;
	if (rc == DB_ROW)
		*v = (int)db_col_int64(s, 0);
	else
		e = store_sql_fail(st, what);
	stmt_put(st, sid, s);
	return e;
}

static int cal_kind_check(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;
	if (n < 1 || n > 32)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "calibration kind must be 1-32 bytes of [a-z0-9_]");
	for (size_t i = 0; i < n; i++)
		if (!((kind[i] >= 'a' && kind[i] <= 'z') || (kind[i] >= '0' && kind[i] <= '9') || kind[i] == '_'))
			return mg_fail(MG_ERR_ARG, STORE_DOM, "calibration kind: byte %zu is not in [a-z0-9_]", i + 1);
	return MG_OK;
}

int mg_store_result_add(mg_store *st, long long measurement_id, long long calibration_id,
                        const char *software_version, const char *payload_json, int *version_out, long long *id_out)
{
	int e, version = 0;
	char what[96];
	if (!st || measurement_id <= 0 || calibration_id < 0)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_result_add: bad arguments");
	snprintf(what, sizeof(what), "adding a result to measurement %lld", measurement_id);
	if ((e = store_json_check(what, payload_json, 0)) != MG_OK)
		return e;
	if (!software_version || !*software_version)
		software_version = SOFTWARE;
	if ((e = store_begin(st, what)) != MG_OK)
		return e;
	mg_measurement m = {0};
	mg_calibration c = {0};
	e = mg_store_measurement_get(st, measurement_id, &m);
	if (e == MG_OK && calibration_id > 0 && (e = mg_store_calibration_get(st, calibration_id, &c)) == MG_ERR_NOT_FOUND)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "%s: no calibration %lld", what, calibration_id);
	mg_calibration_clear(&c);
	if (e == MG_OK)
		e = next_version(st, S_RESULT_NEXT_VERSION, measurement_id, NULL, NULL, what, &version);
	long long id = 0;
	if (e == MG_OK) {
		db_stmt *s = stmt_get(st, S_RESULT_INSERT);
		if (!s) {
			e = MG_ERR_IO;
		} else {
			db_bind_int64(s, 1, measurement_id);
			db_bind_int64(s, 2, version);
			if (calibration_id > 0)
				db_bind_int64(s, 3, calibration_id);
			else
				db_bind_null(s, 3);
			bind_text(s, 4, software_version);
			bind_text(s, 5, payload_json);
			int rc = db_step(s);
			e = rc == DB_DONE ? MG_OK : store_sql_fail(st, what);
			if (e == MG_OK)
				e = store_last_id(st, what, &id);
			stmt_put(st, S_RESULT_INSERT, s);
		}
	}
	if (e == MG_OK) {
		char ent[64];
		snprintf(ent, sizeof(ent), "%lld/v%d", measurement_id, version);
		e = store_event_json(st, NULL, "result.add", "result", ent,
		                     json_pack("{s:I,s:s,s:i,s:o,s:s}", "id", (json_int_t)id, "measurement", m.uuid, "version",
		                               version, "calibration",
		                               calibration_id > 0 ? json_integer(calibration_id) : json_null(), "software",
		                               software_version));
	}
	mg_measurement_clear(&m);
	if ((e = store_end(st, e, what)) != MG_OK)
		return e;
	if (version_out)
		*version_out = version;
	if (id_out)
		*id_out = id;
	return MG_OK;
}

int mg_store_result_get(mg_store *st, long long measurement_id, int version, mg_result *out)
{
	if (!st || !out || version < 0)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_result_get: bad arguments");
	memset(out, 0, sizeof(*out));
	enum stmt_id sid = version ? S_RESULT_GET : S_RESULT_LATEST;
	db_stmt *s = stmt_get(st, sid);
	if (!s)
		return MG_ERR_IO;
	db_bind_int64(s, 1, measurement_id);
	if (version)
		db_bind_int64(s, 2, version);
	int rc = db_step(s), e;
	if (rc == DB_ROW)
		e = fill_result(s, out, 1);
	else if (rc == DB_DONE && version)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "measurement %lld has no result version %d", measurement_id,
		            version);
	else if (rc == DB_DONE)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "measurement %lld has no result", measurement_id);
	else
		e = store_sql_fail(st, "looking up a result");
	stmt_put(st, sid, s);
	return e;
}

int mg_store_results_list(mg_store *st, long long measurement_id, mg_result_cb cb, void *userdata)
{
	if (!st || !cb)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_results_list: bad arguments");
	db_stmt *s = stmt_get(st, S_RESULT_LIST);
	if (!s)
		return MG_ERR_IO;
	db_bind_int64(s, 1, measurement_id);
	int n = 0, rc, e = MG_OK;
	while ((rc = db_step(s)) == DB_ROW) {
		mg_result r;
		fill_result(s, &r, 0);
		n++;
		int x = cb(&r, userdata);
		if (x) {
			e = x < 0 ? x : MG_OK;
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE)
		e = store_sql_fail(st, "listing results");
	stmt_put(st, S_RESULT_LIST, s);
	return e < 0 ? e : n;
}

int mg_store_calibration_add(mg_store *st, const mg_new_calibration *c, int *version_out, long long *id_out)
{
	int e, version = 0;
	char what[160];
	if (!st || !c)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_calibration_add: bad arguments");
	if ((e = cal_kind_check(c->kind)) != MG_OK || (e = store_id_check("calibration name", c->name)) != MG_OK)
		return e;
	snprintf(what, sizeof(what), "adding %s calibration %s", c->kind, c->name);
	if ((e = store_json_check(what, c->payload_json, 0)) != MG_OK ||
	    (e = store_json_check(what, c->provenance_json, 1)) != MG_OK)
		return e;
	const char *software = c->software_version && *c->software_version ? c->software_version : SOFTWARE;
	if ((e = store_begin(st, what)) != MG_OK)
		return e;
	long long id = 0;
	e = next_version(st, S_CAL_NEXT_VERSION, 0, c->kind, c->name, what, &version);
	if (e == MG_OK) {
		db_stmt *s = stmt_get(st, S_CAL_INSERT);
		if (!s) {
			e = MG_ERR_IO;
		} else {
			bind_text(s, 1, c->kind);
			bind_text(s, 2, c->name);
			db_bind_int64(s, 3, version);
			bind_text(s, 4, c->operator_name);
			bind_text(s, 5, software);
			bind_text(s, 6, c->provenance_json);
			bind_text(s, 7, c->payload_json);
			int rc = db_step(s);
			e = rc == DB_DONE ? MG_OK : store_sql_fail(st, what);
			if (e == MG_OK)
				e = store_last_id(st, what, &id);
			stmt_put(st, S_CAL_INSERT, s);
		}
	}
	if (e == MG_OK) {
		char ent[128];
		snprintf(ent, sizeof(ent), "%s/%s/v%d", c->kind, c->name, version);
		e = store_event_json(st, c->operator_name, "calibration.add", "calibration", ent,
		                     json_pack("{s:I,s:s}", "id", (json_int_t)id, "software", software));
	}
	if ((e = store_end(st, e, what)) != MG_OK)
		return e;
	if (version_out)
		*version_out = version;
	if (id_out)
		*id_out = id;
	return MG_OK;
}

int mg_store_calibration_get(mg_store *st, long long id, mg_calibration *out)
{
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_calibration_get: bad arguments");
	memset(out, 0, sizeof(*out));
	db_stmt *s = stmt_get(st, S_CAL_GET);
	if (!s)
		return MG_ERR_IO;
	db_bind_int64(s, 1, id);
	int rc = db_step(s), e;
	if (rc == DB_ROW)
		e = fill_cal(s, out, 1);
	else if (rc == DB_DONE)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "no calibration %lld", id);
	else
		e = store_sql_fail(st, "looking up a calibration");
	stmt_put(st, S_CAL_GET, s);
	return e;
}

int mg_store_calibration_find(mg_store *st, const char *kind, const char *name, int version, mg_calibration *out)
{
	int e;
	if (!st || !out || version < 0)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_calibration_find: bad arguments");
	memset(out, 0, sizeof(*out));
	if ((e = cal_kind_check(kind)) != MG_OK || (e = store_id_check("calibration name", name)) != MG_OK)
		return e;
	enum stmt_id sid = version ? S_CAL_FIND : S_CAL_LATEST;
	db_stmt *s = stmt_get(st, sid);
	if (!s)
		return MG_ERR_IO;
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	if (version)
		db_bind_int64(s, 3, version);
	int rc = db_step(s);
	if (rc == DB_ROW)
		e = fill_cal(s, out, 1);
	else if (rc == DB_DONE && version)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "no %s calibration %s version %d", kind, name, version);
	else if (rc == DB_DONE)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "no %s calibration %s", kind, name);
	else
		e = store_sql_fail(st, "looking up a calibration");
	stmt_put(st, sid, s);
	return e;
}

int mg_store_calibrations_list(mg_store *st, const char *kind, const char *name, mg_calibration_cb cb,
                               void *userdata)
{
	if (!st || !cb)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_calibrations_list: bad arguments");
	db_stmt *s = stmt_get(st, S_CAL_LIST);
	if (!s)
		return MG_ERR_IO;
	bind_text(s, 1, kind);
	bind_text(s, 2, name);
	int n = 0, rc, e = MG_OK;
	while ((rc = db_step(s)) == DB_ROW) {
		mg_calibration c;
		fill_cal(s, &c, 0);
		n++;
		int x = cb(&c, userdata);
		if (x) {
			e = x < 0 ? x : MG_OK;
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE)
		e = store_sql_fail(st, "listing calibrations");
	stmt_put(st, S_CAL_LIST, s);
	return e < 0 ? e : n;
}
