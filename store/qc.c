/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Batch-QC records (schema version 2): QC values of check standards,
 * overrides and releases. Append-only like results; a release is written in
 * one transaction with its override, after checking that no QC data arrived
 * since the batch was judged (the watermark). The rules themselves live in
 * report/ (include/magassay/qc.h). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/store_qc.h"
#include "store_internal.h"

#define QC_VALUE_COLS                                                                                    \
	"id, quantity, target, standard, instrument, value, unit, batch_id, measurement_id, measured_at, "  \
	"operator, created_at"
#define RELEASE_COLS                                                                                     \
	"r.id, r.batch_id, r.released_by, r.qc_state, r.override_id, r.details, r.at, o.override_by, o.reason"
#define QC_QUERY "preparing a QC query"
#define OVERRIDE_COLS "id, batch_id, override_by, reason, violations, at"

void mg_qc_value_clear(mg_qc_value *v)
{
	if (!v)
		return;
	free(v->quantity);
	free(v->target);
	free(v->standard);
	free(v->instrument);
	free(v->unit);
	free(v->batch_id);
	free(v->measured_at);
	free(v->operator_name);
	free(v->created_at);
	memset(v, 0, sizeof(*v));
}

void mg_qc_override_clear(mg_qc_override *o)
{
	if (!o)
		return;
	free(o->batch_id);
	free(o->override_by);
	free(o->reason);
	free(o->violations_json);
	free(o->at);
	memset(o, 0, sizeof(*o));
}

void mg_qc_release_record_clear(mg_qc_release_record *r)
{
	if (!r)
		return;
	free(r->batch_id);
	free(r->released_by);
	free(r->qc_state);
	free(r->details_json);
	free(r->at);
	free(r->override_by);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

static void fill_value(db_stmt *s, mg_qc_value *v)
{
	int err = 0;
	memset(v, 0, sizeof(*v));
	v->id = db_col_int64(s, 0);
	v->quantity = col_text_as(s, 1, 0, &err);
	v->target = col_text_as(s, 2, 0, &err);
	v->standard = col_text_as(s, 3, 0, &err);
	v->instrument = col_text_as(s, 4, 0, &err);
	v->value = col_real(s, 5);
	v->unit = col_text_as(s, 6, 0, &err);
	v->batch_id = col_text_as(s, 7, 0, &err);
	v->measurement_id = db_col_int64(s, 8);
	v->measured_at = col_text_as(s, 9, 0, &err);
	v->operator_name = col_text_as(s, 10, 0, &err);
	v->created_at = col_text_as(s, 11, 0, &err);
}

static int quantity_check(const char *q)
{
	size_t n = q ? strlen(q) : 0;
	if (n < 1 || n > 32)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "QC quantity must be 1-32 bytes of [a-z0-9_]");
	for (size_t i = 0; i < n; i++)
		if (!((q[i] >= 'a' && q[i] <= 'z') || (q[i] >= '0' && q[i] <= '9') || q[i] == '_'))
			return mg_fail(MG_ERR_ARG, STORE_DOM, "QC quantity \"%s\": byte %zu is not in [a-z0-9_]", q, i + 1);
	return MG_OK;
}

int mg_store_qc_value_add(mg_store *st, const mg_new_qc_value *v, long long *id_out)
{
	int e;
	if (!st || !v)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_qc_value_add: bad arguments");
	if ((e = quantity_check(v->quantity)) != MG_OK)
		return e;
	size_t tl = v->target ? strlen(v->target) : 0;
	if (tl < 1 || tl > 64)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "QC %s: the target (line or element) must be 1-64 bytes",
		               v->quantity);
	if (!isfinite(v->value))
		return mg_fail(MG_ERR_ARG, STORE_DOM, "QC %s %s: the value is not a finite number", v->quantity,
		               v->target);
	if (v->batch_id && (e = store_id_check("batch id", v->batch_id)) != MG_OK)
		return e;
	if (v->measurement_id < 0)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "QC %s %s: bad measurement id", v->quantity, v->target);
	char what[160];
	snprintf(what, sizeof(what), "adding QC value %s %s", v->quantity, v->target);
	if ((e = store_begin(st, what)) != MG_OK)
		return e;
	if (v->batch_id) {
		mg_batch b;
		if ((e = mg_store_batch_get(st, v->batch_id, &b)) == MG_OK)
			mg_batch_clear(&b);
	}
	if (e == MG_OK && v->measurement_id > 0) {
		mg_measurement m;
		if ((e = mg_store_measurement_get(st, v->measurement_id, &m)) == MG_OK)
			mg_measurement_clear(&m);
	}
	long long id = 0;
	if (e == MG_OK) {
		char sql[512];
		snprintf(sql, sizeof(sql),
		         "INSERT INTO qc_values(quantity, target, standard, instrument, value, unit, batch_id, "
		         "measurement_id, measured_at, operator) VALUES(?1, ?2, ?3, coalesce(?4, ''), ?5, ?6, ?7, ?8, "
		         "coalesce(?9, %s), ?10)",
		         db_now_sql(st->db));
		db_stmt *s = store_prepare(st, sql, QC_QUERY);
		if (!s) {
			e = MG_ERR_IO;
		} else {
			bind_text(s, 1, v->quantity);
			bind_text(s, 2, v->target);
			bind_text(s, 3, v->standard);
			bind_text(s, 4, v->instrument);
			db_bind_double(s, 5, v->value);
			bind_text(s, 6, v->unit);
			bind_text(s, 7, v->batch_id);
			if (v->measurement_id > 0)
				db_bind_int64(s, 8, v->measurement_id);
			else
				db_bind_null(s, 8);
			bind_text(s, 9, v->measured_at);
			bind_text(s, 10, v->operator_name);
			int rc = db_step(s);
			e = rc == DB_DONE ? MG_OK : store_sql_fail(st, what);
			if (e == MG_OK)
				e = store_last_id(st, what, &id);
			db_finalize(s);
		}
	}
	if (e == MG_OK) {
		char ent[32];
		snprintf(ent, sizeof(ent), "%lld", id);
		e = store_event_json(st, v->operator_name, "qc.value.add", "qc_value", ent,
		                     json_pack("{s:s,s:s,s:f,s:o}", "quantity", v->quantity, "target", v->target, "value", v->value,
		                               "batch", v->batch_id ? json_string(v->batch_id) : json_null()));
	}
	if ((e = store_end(st, e, what)) != MG_OK)
		return e;
	if (id_out)
		*id_out = id;
	return MG_OK;
}

int mg_store_qc_values_list(mg_store *st, const char *quantity, const char *target, const char *instrument,
                            const char *batch_id, mg_qc_value_cb cb, void *userdata)
{
	if (!st || !cb)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_qc_values_list: bad arguments");
	db_stmt *s = store_prepare(st, "SELECT " QC_VALUE_COLS " FROM qc_values WHERE (?1 IS NULL OR quantity = ?1) "
	                                    "AND (?2 IS NULL OR target = ?2) AND (?3 IS NULL OR instrument = ?3) "
	                                    "AND (?4 IS NULL OR batch_id = ?4) ORDER BY measured_at, id", QC_QUERY);
	if (!s)
		return MG_ERR_IO;
	bind_text(s, 1, quantity);
	bind_text(s, 2, target);
	bind_text(s, 3, instrument);
	bind_text(s, 4, batch_id);
	int n = 0, rc, e = MG_OK;
	while ((rc = db_step(s)) == DB_ROW) {
		mg_qc_value v;
		fill_value(s, &v);
		n++;
		int x = cb(&v, userdata);
		if (x) {
			e = x < 0 ? x : MG_OK;
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE)
		e = store_sql_fail(st, "listing QC values");
	db_finalize(s);
	return e < 0 ? e : n;
}

static int max_id(mg_store *st, const char *sql, long long *out)
{
	db_stmt *s = store_prepare(st, sql, QC_QUERY);
	if (!s)
		return MG_ERR_IO;
	int rc = db_step(s), e = MG_OK;
	if (rc == DB_ROW)
		*out = db_col_int64(s, 0);
	else
		e = store_sql_fail(st, "reading the QC watermark");
	db_finalize(s);
	return e;
}

int mg_store_qc_watermark(mg_store *st, mg_qc_watermark *out)
{
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_qc_watermark: bad arguments");
	memset(out, 0, sizeof(*out));
	int e = max_id(st, "SELECT coalesce(max(id), 0) FROM qc_values", &out->qc_value_id);
	if (e == MG_OK)
		e = max_id(st, "SELECT coalesce(max(id), 0) FROM results", &out->result_id);
	return e;
}

static int fill_release(db_stmt *s, mg_qc_release_record *r)
{
	int err = 0;
	memset(r, 0, sizeof(*r));
	r->id = db_col_int64(s, 0);
	r->batch_id = col_text(s, 1, &err);
	r->released_by = col_text(s, 2, &err);
	r->qc_state = col_text(s, 3, &err);
	r->override_id = db_col_int64(s, 4);
	r->details_json = col_text(s, 5, &err);
	r->at = col_text(s, 6, &err);
	r->override_by = col_text(s, 7, &err);
	r->reason = col_text(s, 8, &err);
	if (err) {
		mg_qc_release_record_clear(r);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	}
	return MG_OK;
}

int mg_store_qc_release_get(mg_store *st, const char *batch_id, mg_qc_release_record *out)
{
	int e;
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_qc_release_get: bad arguments");
	memset(out, 0, sizeof(*out));
	if ((e = store_id_check("batch id", batch_id)) != MG_OK)
		return e;
	db_stmt *s = store_prepare(st, "SELECT " RELEASE_COLS " FROM qc_releases r LEFT JOIN qc_overrides o "
	                                    "ON o.id = r.override_id WHERE r.batch_id = ?1", QC_QUERY);
	if (!s)
		return MG_ERR_IO;
	bind_text(s, 1, batch_id);
	int rc = db_step(s);
	if (rc == DB_ROW)
		e = fill_release(s, out);
	else if (rc == DB_DONE)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "batch %s is not released", batch_id);
	else
		e = store_sql_fail(st, "looking up a release");
	db_finalize(s);
	return e;
}

static int blank(const char *s)
{
	if (!s)
		return 1;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

int mg_store_qc_release_add(mg_store *st, const char *batch_id, const char *released_by,
                            const char *override_by, const char *reason, const char *violations_json,
                            const char *details_json, const mg_qc_watermark *wm, long long *id_out)
{
	int e;
	if (!st)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_qc_release_add: bad arguments");
	if ((e = store_id_check("batch id", batch_id)) != MG_OK)
		return e;
	char what[128];
	snprintf(what, sizeof(what), "releasing batch %s", batch_id);
	if (override_by) {
		if (blank(override_by))
			return mg_fail(MG_ERR_ARG, STORE_DOM, "%s: an override needs the name of who accepts it", what);
		if (blank(reason))
			return mg_fail(MG_ERR_ARG, STORE_DOM, "%s: an override needs a reason (why the batch is "
			               "released despite its QC)", what);
		if ((e = store_json_check(what, violations_json, 0)) != MG_OK)
			return e;
	}
	if ((e = store_json_check(what, details_json, 1)) != MG_OK)
		return e;
	if (released_by && blank(released_by))
		released_by = NULL;
	const char *by = released_by ? released_by : st->actor;
	if ((e = store_begin(st, what)) != MG_OK)
		return e;
	mg_batch b = {0};
	mg_qc_release_record prev = {0};
	e = mg_store_batch_get(st, batch_id, &b);
	mg_batch_clear(&b);
	if (e == MG_OK) {
		int g = mg_store_qc_release_get(st, batch_id, &prev);
		if (g == MG_OK)
			e = mg_fail(MG_ERR_EXISTS, STORE_DOM, "%s: it was released by %s at %s", what, prev.released_by,
			            prev.at);
		else if (g != MG_ERR_NOT_FOUND)
			e = g;
		mg_qc_release_record_clear(&prev);
	}
	if (e == MG_OK && wm) {
		mg_qc_watermark now;
		if ((e = mg_store_qc_watermark(st, &now)) == MG_OK &&
		    (now.qc_value_id != wm->qc_value_id || now.result_id != wm->result_id))
			e = mg_fail(MG_ERR_BUSY, STORE_DOM,
			            "%s: QC data changed while the batch was judged (new QC values or results); "
			            "judge it again",
			            what);
	}
	long long oid = 0, rid = 0;
	if (e == MG_OK && override_by) {
		db_stmt *s = store_prepare(st, "INSERT INTO qc_overrides(batch_id, override_by, reason, violations) "
		                                    "VALUES(?1, ?2, ?3, ?4)", QC_QUERY);
		if (!s) {
			e = MG_ERR_IO;
		} else {
			bind_text(s, 1, batch_id);
			bind_text(s, 2, override_by);
			bind_text(s, 3, reason);
			bind_text(s, 4, violations_json);
			int rc = db_step(s);
			e = rc == DB_DONE ? MG_OK : store_sql_fail(st, what);
			if (e == MG_OK)
				e = store_last_id(st, what, &oid);
			db_finalize(s);
		}
		if (e == MG_OK) {
			json_t *viol = json_loads(violations_json, JSON_DECODE_ANY, NULL);
			e = store_event_json(st, override_by, "qc.override", "batch", batch_id,
			                     json_pack("{s:I,s:s,s:s,s:o}", "override", (json_int_t)oid, "by", override_by, "reason",
			                               reason, "violations", viol ? viol : json_null()));
		}
	}
	if (e == MG_OK) {
		db_stmt *s = store_prepare(st, "INSERT INTO qc_releases(batch_id, released_by, qc_state, override_id, "
		                                    "details) VALUES(?1, ?2, ?3, ?4, ?5)", QC_QUERY);
		if (!s) {
			e = MG_ERR_IO;
		} else {
			bind_text(s, 1, batch_id);
			bind_text(s, 2, by);
			bind_text(s, 3, override_by ? "override" : "pass");
			if (oid > 0)
				db_bind_int64(s, 4, oid);
			else
				db_bind_null(s, 4);
			bind_text(s, 5, details_json);
			int rc = db_step(s);
			e = rc == DB_DONE ? MG_OK : store_sql_fail(st, what);
			if (e == MG_OK)
				e = store_last_id(st, what, &rid);
			db_finalize(s);
		}
		if (e == MG_OK)
			e = store_event_json(st, by, "qc.release", "batch", batch_id,
			                     json_pack("{s:I,s:s,s:o}", "release", (json_int_t)rid, "qc_state",
			                               override_by ? "override" : "pass", "override",
			                               oid > 0 ? json_integer(oid) : json_null()));
	}
	if ((e = store_end(st, e, what)) != MG_OK)
		return e;
	if (id_out)
		*id_out = rid;
	return MG_OK;
}

int mg_store_qc_overrides_list(mg_store *st, const char *batch_id, mg_qc_override_cb cb, void *userdata)
{
	if (!st || !cb)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_qc_overrides_list: bad arguments");
	db_stmt *s = store_prepare(st, "SELECT " OVERRIDE_COLS " FROM qc_overrides WHERE (?1 IS NULL OR batch_id = ?1) "
	                                    "ORDER BY id", QC_QUERY);
	if (!s)
		return MG_ERR_IO;
	bind_text(s, 1, batch_id);
	int n = 0, rc, e = MG_OK;
	while ((rc = db_step(s)) == DB_ROW) {
		int err = 0;
		mg_qc_override o = {
			.id = db_col_int64(s, 0),
			.batch_id = col_text_as(s, 1, 0, &err),
			.override_by = col_text_as(s, 2, 0, &err),
			.reason = col_text_as(s, 3, 0, &err),
			.violations_json = col_text_as(s, 4, 0, &err),
			.at = col_text_as(s, 5, 0, &err),
		};
		n++;
		int x = cb(&o, userdata);
		if (x) {
			e = x < 0 ? x : MG_OK;
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE)
		e = store_sql_fail(st, "listing QC overrides");
	db_finalize(s);
	return e < 0 ? e : n;
}
