/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Batches (lots) and samples: explicit create-or-reuse, lookups, listings. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

void mg_batch_clear(mg_batch *b)
{
	if (!b)
		return;
	free(b->id);
	free(b->created_at);
	free(b->operator_name);
	free(b->notes);
	free(b->status);
	memset(b, 0, sizeof(*b));
}

void mg_sample_clear(mg_sample *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->batch_id);
	free(s->created_at);
	free(s->description);
	memset(s, 0, sizeof(*s));
}

/* Fill from a row of BATCH_COLS: owned copies, or borrowed column text (copy == 0). */
static int fill_batch(db_stmt *s, mg_batch *b, int copy)
{
	int err = 0;
	memset(b, 0, sizeof(*b));
	b->id = col_text_as(s, 0, copy, &err);
	b->created_at = col_text_as(s, 1, copy, &err);
	b->operator_name = col_text_as(s, 2, copy, &err);
	b->notes = col_text_as(s, 3, copy, &err);
	b->status = col_text_as(s, 4, copy, &err);
	b->n_samples = db_col_int64(s, 5);
	b->n_measurements = db_col_int64(s, 6);
	if (err) {
		mg_batch_clear(b);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	}
	return MG_OK;
}

static int fill_sample(db_stmt *s, mg_sample *o, int copy)
{
	int err = 0;
	memset(o, 0, sizeof(*o));
	o->id = col_text_as(s, 0, copy, &err);
	o->batch_id = col_text_as(s, 1, copy, &err);
	o->created_at = col_text_as(s, 2, copy, &err);
	o->description = col_text_as(s, 3, copy, &err);
	o->n_measurements = db_col_int64(s, 4);
	if (err) {
		mg_sample_clear(o);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	}
	return MG_OK;
}

int mg_store_batch_ensure(mg_store *st, const char *id, const char *operator_name, enum mg_ensure *how)
{
	int e;
	char what[128];
	if (!st)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "no store");
	if ((e = store_id_check("batch id", id)) != MG_OK)
		return e;
	snprintf(what, sizeof(what), "registering batch %s", id);
	if ((e = store_begin(st, what)) != MG_OK)
		return e;
	db_stmt *s = stmt_get(st, S_BATCH_INSERT);
	if (!s) {
		store_rollback(st);
		return MG_ERR_IO;
	}
	bind_text(s, 1, id);
	bind_text(s, 2, operator_name && *operator_name ? operator_name : NULL);
	int rc = db_step(s);
	int created = rc == DB_DONE && db_changes(st->db) == 1;
	e = rc == DB_DONE ? MG_OK : store_sql_fail(st, what);
	stmt_put(st, S_BATCH_INSERT, s);
	if (e == MG_OK && created)
		e = store_event_json(st, operator_name, "batch.create", "batch", id,
		                     json_pack("{s:o}", "operator",
		                               operator_name ? json_string(operator_name) : json_null()));
	if ((e = store_end(st, e, what)) != MG_OK)
		return e;
	if (how)
		*how = created ? MG_ENSURE_CREATED : MG_ENSURE_EXISTED;
	mg_dbg(STORE_DOM, "batch %s %s", id, created ? "created" : "exists, reused");
	return MG_OK;
}

/* Look up one row by a text key into a record (owned). */
static int get_sample(mg_store *st, const char *id, mg_sample *out)
{
	db_stmt *s = stmt_get(st, S_SAMPLE_GET);
	if (!s)
		return MG_ERR_IO;
	bind_text(s, 1, id);
	int rc = db_step(s), e;
	if (rc == DB_ROW)
		e = fill_sample(s, out, 1);
	else if (rc == DB_DONE)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "no sample %s in the store at %s", id, st->dir);
	else
		e = store_sql_fail(st, "looking up a sample");
	stmt_put(st, S_SAMPLE_GET, s);
	return e;
}

static int get_batch(mg_store *st, const char *id, mg_batch *out)
{
	db_stmt *s = stmt_get(st, S_BATCH_GET);
	if (!s)
		return MG_ERR_IO;
	bind_text(s, 1, id);
	int rc = db_step(s), e;
	if (rc == DB_ROW)
		e = fill_batch(s, out, 1);
	else if (rc == DB_DONE)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "no batch %s in the store at %s", id, st->dir);
	else
		e = store_sql_fail(st, "looking up a batch");
	stmt_put(st, S_BATCH_GET, s);
	return e;
}

int mg_store_sample_ensure(mg_store *st, const char *id, const char *batch_id, const char *description,
                           enum mg_ensure *how)
{
	int e;
	char what[200];
	if (!st)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "no store");
	if ((e = store_id_check("sample id", id)) != MG_OK)
		return e;
	if (batch_id && (e = store_id_check("batch id", batch_id)) != MG_OK)
		return e;
	snprintf(what, sizeof(what), "registering sample %s", id);
	if ((e = store_begin(st, what)) != MG_OK)
		return e;
	mg_sample old = {0};
	e = get_sample(st, id, &old);
	if (e == MG_OK) {
		/* Sample ids are unique across the store: the same id in another lot is a mistake to report. */
		if (batch_id && strcmp(old.batch_id, batch_id) != 0)
			e = mg_fail(MG_ERR_EXISTS, STORE_DOM,
			            "sample %s is already registered in batch %s, so it cannot be added to batch %s: "
			            "sample ids are unique across the store; give this sample another id",
			            id, old.batch_id, batch_id);
		mg_sample_clear(&old);
		store_rollback(st); /* nothing was written */
		if (e == MG_OK && how)
			*how = MG_ENSURE_EXISTED;
		return e;
	}
	if (e != MG_ERR_NOT_FOUND) {
		store_rollback(st);
		return e;
	}
	if (!batch_id) {
		store_rollback(st);
		return mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "sample %s is not registered yet: give its batch", id);
	}
	mg_batch b = {0};
	if ((e = get_batch(st, batch_id, &b)) != MG_OK) {
		store_rollback(st);
		if (e == MG_ERR_NOT_FOUND)
			return mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "sample %s: batch %s is not registered", id, batch_id);
		return e;
	}
	mg_batch_clear(&b);
	db_stmt *s = stmt_get(st, S_SAMPLE_INSERT);
	if (!s) {
		store_rollback(st);
		return MG_ERR_IO;
	}
	bind_text(s, 1, id);
	bind_text(s, 2, batch_id);
	bind_text(s, 3, description && *description ? description : NULL);
	int rc = db_step(s);
	e = rc == DB_DONE ? MG_OK : store_sql_fail(st, what);
	stmt_put(st, S_SAMPLE_INSERT, s);
	if (e == MG_OK)
		e = store_event_json(st, NULL, "sample.create", "sample", id, json_pack("{s:s}", "batch", batch_id));
	if ((e = store_end(st, e, what)) != MG_OK)
		return e;
	if (how)
		*how = MG_ENSURE_CREATED;
	mg_dbg(STORE_DOM, "sample %s created in batch %s", id, batch_id);
	return MG_OK;
}

int mg_store_batch_get(mg_store *st, const char *id, mg_batch *out)
{
	int e;
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_batch_get: bad arguments");
	memset(out, 0, sizeof(*out));
	if ((e = store_id_check("batch id", id)) != MG_OK)
		return e;
	return get_batch(st, id, out);
}

int mg_store_sample_get(mg_store *st, const char *id, mg_sample *out)
{
	int e;
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_sample_get: bad arguments");
	memset(out, 0, sizeof(*out));
	if ((e = store_id_check("sample id", id)) != MG_OK)
		return e;
	return get_sample(st, id, out);
}

int mg_store_batches_list(mg_store *st, mg_batch_cb cb, void *userdata)
{
	if (!st || !cb)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_batches_list: bad arguments");
	db_stmt *s = stmt_get(st, S_BATCH_LIST);
	if (!s)
		return MG_ERR_IO;
	int n = 0, rc, e = MG_OK;
	while ((rc = db_step(s)) == DB_ROW) {
		mg_batch b;
		fill_batch(s, &b, 0);
		n++;
		int r = cb(&b, userdata);
		if (r) {
			e = r < 0 ? r : MG_OK;
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE)
		e = store_sql_fail(st, "listing batches");
	stmt_put(st, S_BATCH_LIST, s);
	return e < 0 ? e : n;
}

int mg_store_samples_list(mg_store *st, const char *batch_id, mg_sample_cb cb, void *userdata)
{
	int e;
	if (!st || !cb)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_samples_list: bad arguments");
	if (batch_id && (e = store_id_check("batch id", batch_id)) != MG_OK)
		return e;
	enum stmt_id sid = batch_id ? S_SAMPLE_LIST_BATCH : S_SAMPLE_LIST;
	db_stmt *s = stmt_get(st, sid);
	if (!s)
		return MG_ERR_IO;
	if (batch_id)
		bind_text(s, 1, batch_id);
	int n = 0, rc;
	e = MG_OK;
	while ((rc = db_step(s)) == DB_ROW) {
		mg_sample o;
		fill_sample(s, &o, 0);
		n++;
		int r = cb(&o, userdata);
		if (r) {
			e = r < 0 ? r : MG_OK;
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE)
		e = store_sql_fail(st, "listing samples");
	stmt_put(st, sid, s);
	return e < 0 ? e : n;
}
