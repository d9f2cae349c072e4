/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Measurements: the archive layout, registration (with the file's SHA-256),
 * lookups, listings and the per-file check. */
#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

static const char *const kinds[] = {"xrf", "icp"};
static const char *const statuses[] = {"complete", "stopped_early", "incomplete", "device_lost"};

static int one_of(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return 1;
	return 0;
}

void mg_new_measurement_init(mg_new_measurement *m)
{
	if (!m)
		return;
	memset(m, 0, sizeof(*m));
	m->kind = "xrf";
	m->status = "complete";
	m->live_time_s = NAN;
	m->real_time_s = NAN;
	m->total_counts = NAN;
}

void mg_measurement_clear(mg_measurement *m)
{
	if (!m)
		return;
	char **fields[] = {&m->uuid, &m->sample_id, &m->batch_id, &m->kind, &m->file, &m->sha256,
	                   &m->instrument_model, &m->instrument_serial, &m->instrument_firmware,
	                   &m->settings_json, &m->started_at, &m->ended_at, &m->operator_name, &m->status,
	                   &m->notes, &m->created_at};
	for (size_t i = 0; i < MG_ARRAY_SIZE(fields); i++)
		free(*fields[i]);
	memset(m, 0, sizeof(*m));
}

int store_fill_measurement(db_stmt *s, mg_measurement *m, int copy)
{
	int err = 0;
	memset(m, 0, sizeof(*m));
	char **text[] = {&m->uuid, &m->sample_id, &m->batch_id, &m->kind, &m->file, &m->sha256};
	const int text_col[] = {1, 2, 3, 4, 5, 6};
	char **text2[] = {&m->instrument_model, &m->instrument_serial, &m->instrument_firmware, &m->settings_json,
	                  &m->started_at, &m->ended_at};
	const int text2_col[] = {8, 9, 10, 11, 12, 13};
	char **text3[] = {&m->operator_name, &m->status};
	const int text3_col[] = {17, 18};
	char **text4[] = {&m->notes, &m->created_at};
	const int text4_col[] = {20, 21};
#define FILL(arr, cols)                                                                                  \
	for (size_t i = 0; i < MG_ARRAY_SIZE(arr); i++)                                                  \
		*arr[i] = col_text_as(s, cols[i], copy, &err);
	FILL(text, text_col)
	FILL(text2, text2_col)
	FILL(text3, text3_col)
	FILL(text4, text4_col)
#undef FILL
	m->id = db_col_int64(s, 0);
	m->size = db_col_int64(s, 7);
	m->live_time_s = col_real(s, 14);
	m->real_time_s = col_real(s, 15);
	m->total_counts = col_real(s, 16);
	m->replicate = (int)db_col_int64(s, 19);
	m->n_results = db_col_int64(s, 22);
	if (err) {
		mg_measurement_clear(m);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	}
	return MG_OK;
}

/* A path relative to the data directory, checked: no empty, "." or ".."
 * component, no control bytes. An absolute path inside the data directory
 * (directly or through a symbolic link) is made relative. *rel is malloc'ed. */
static int relative_path(mg_store *st, const char *file, char **rel)
{
	char real[PATH_MAX];
	*rel = NULL;
	if (!file || !*file)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "no spectrum file given");
	const char *p = file;
	if (p[0] == '/') {
		size_t n = strlen(st->dir);
		if (strncmp(p, st->dir, n) == 0 && p[n] == '/')
			p += n + 1;
		else if (realpath(file, real) && strncmp(real, st->dir, n) == 0 && real[n] == '/')
			p = real + n + 1; /* the same place through a symbolic link */
		else
			return mg_fail(MG_ERR_ARG, STORE_DOM, "%s is not inside the data directory %s", file, st->dir);
	}
	const char *c = p;
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return mg_fail(MG_ERR_ARG, STORE_DOM,
			               "%s: a stored file path may not have empty, '.' or '..' parts", file);
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
				return mg_fail(MG_ERR_ARG, STORE_DOM, "file path has a control character (byte %zu)",
				               (size_t)(c - p) + i + 1);
		if (!slash)
			break;
		c = slash + 1;
	}
	if (!(*rel = strdup(p)))
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	return MG_OK;
}

int mg_store_abspath(mg_store *st, const char *relative, char **out)
{
	char *rel = NULL;
	int e;
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_abspath: bad arguments");
	*out = NULL;
	if ((e = relative_path(st, relative, &rel)) != MG_OK)
		return e;
	size_t n = strlen(st->dir) + strlen(rel) + 2;
	if ((*out = malloc(n)))
		snprintf(*out, n, "%s/%s", st->dir, rel);
	free(rel);
	return *out ? MG_OK : mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
}

int mg_store_spectrum_path(mg_store *st, const char *batch_id, const char *sample_id, const char *uuid,
                           const char *ext, char **out)
{
	int e;
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_spectrum_path: bad arguments");
	*out = NULL;
	if ((e = store_id_check("batch id", batch_id)) != MG_OK || (e = store_id_check("sample id", sample_id)) != MG_OK ||
	    (e = mg_uuid_validate(uuid)) != MG_OK)
		return e;
	if (!ext)
		ext = "mca";
	size_t el = strlen(ext);
	if (el < 1 || el > 8)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "file extension \"%.16s\" must be 1-8 bytes of [a-z0-9]", ext);
	for (size_t i = 0; i < el; i++)
		if (!((ext[i] >= 'a' && ext[i] <= 'z') || (ext[i] >= '0' && ext[i] <= '9')))
			return mg_fail(MG_ERR_ARG, STORE_DOM, "file extension: byte %zu is not in [a-z0-9]", i + 1);
	size_t n = strlen(st->dir) + strlen(STORE_ARCHIVE) + strlen(batch_id) + strlen(sample_id) + 36 + el + 8;
	char *dir = malloc(n), *path = malloc(n);
	if (!dir || !path) {
		free(dir);
		free(path);
		return mg_fail(MG_ERR_NOMEM, STORE_DOM, "out of memory");
	}
	snprintf(dir, n, "%s/" STORE_ARCHIVE "/%s/%s", st->dir, batch_id, sample_id);
	char lower[MG_UUID_SIZE];
	for (int i = 0; i < MG_UUID_SIZE; i++)
		lower[i] = (char)tolower((unsigned char)uuid[i]);
	snprintf(path, n, "%s/%s.%s", dir, lower, ext);
	e = store_make_dirs(dir);
	free(dir);
	if (e != MG_OK) {
		free(path);
		return e;
	}
	*out = path;
	return MG_OK;
}

static int store_measurement_insert(mg_store *st, const mg_new_measurement *in, const char *uuid, const char *rel,
                                    const char *sha, long long size, long long *id_out, int *replicate_out);

int mg_store_measurement_add(mg_store *st, const mg_new_measurement *in, long long *id_out, int *replicate_out)
{
	int e;
	if (!st || !in)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_measurement_add: bad arguments");
	if ((e = mg_uuid_validate(in->uuid)) != MG_OK || (e = store_id_check("sample id", in->sample_id)) != MG_OK)
		return e;
	if (in->batch_id && (e = store_id_check("batch id", in->batch_id)) != MG_OK)
		return e;
	if (!one_of(in->kind, kinds, MG_ARRAY_SIZE(kinds)))
		return mg_fail(MG_ERR_ARG, STORE_DOM, "measurement kind \"%.32s\": must be xrf or icp",
		               in->kind ? in->kind : "(none)");
	if (!one_of(in->status, statuses, MG_ARRAY_SIZE(statuses)))
		return mg_fail(MG_ERR_ARG, STORE_DOM,
		               "measurement status \"%.32s\": must be complete, stopped_early, incomplete or "
		               "device_lost",
		               in->status ? in->status : "(none)");
	if (in->replicate < 0)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "replicate index %d: must be >= 1 (or 0 for the next one)",
		               in->replicate);
	if (in->settings_json) {
		json_error_t jerr;
		json_t *v = json_loads(in->settings_json, 0, &jerr); /* an object or array */
		int is_obj = v && json_is_object(v);
		json_decref(v);
		if (!is_obj)
			return mg_fail(MG_ERR_FORMAT, STORE_DOM, "measurement settings must be a JSON object%s%s",
			               v ? "" : ": ", v ? "" : jerr.text);
	}
	char uuid[MG_UUID_SIZE];
	for (int i = 0; i < MG_UUID_SIZE; i++)
		uuid[i] = (char)tolower((unsigned char)in->uuid[i]);

	/* The file: inside the data directory, present, hashed before taking the lock. */
	char *rel = NULL, *abs = NULL, sha[MG_SHA256_HEX_SIZE];
	long long size = 0;
	if ((e = relative_path(st, in->file, &rel)) != MG_OK)
		return e;
	if ((e = mg_store_abspath(st, rel, &abs)) == MG_OK)
		e = mg_sha256_file(abs, sha, &size);
	free(abs);
	if (e == MG_OK && in->sha256 && strcasecmp(in->sha256, sha) != 0)
		e = mg_fail(MG_ERR_CHECKSUM, STORE_DOM,
		            "measurement %s: the file %s has SHA-256 %s but the writer computed %.64s: it changed "
		            "after it was written",
		            uuid, rel, sha, in->sha256);
	if (e == MG_OK)
		e = store_measurement_insert(st, in, uuid, rel, sha, size, id_out, replicate_out);
	free(rel);
	return e;
}

/* The transaction of mg_store_measurement_add, once the file is checked. */
static int store_measurement_insert(mg_store *st, const mg_new_measurement *in, const char *uuid, const char *rel,
                                    const char *sha, long long size, long long *id_out, int *replicate_out)
{
	int e;

	char what[128];
	snprintf(what, sizeof(what), "registering measurement %s", uuid);
	if ((e = store_begin(st, what)) != MG_OK)
		return e;
	mg_sample smp = {0};
	if ((e = mg_store_sample_get(st, in->sample_id, &smp)) != MG_OK) {
		store_rollback(st);
		if (e == MG_ERR_NOT_FOUND)
			return mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "%s: sample %s is not registered", what,
			               in->sample_id);
		return e;
	}
	if (in->batch_id && strcmp(in->batch_id, smp.batch_id) != 0) {
		e = mg_fail(MG_ERR_ARG, STORE_DOM, "%s: sample %s belongs to batch %s, not to batch %s", what,
		            in->sample_id, smp.batch_id, in->batch_id);
		mg_sample_clear(&smp);
		store_rollback(st);
		return e;
	}
	int replicate = in->replicate;
	db_stmt *s;
	int rc;
	if (replicate == 0) {
		if (!(s = stmt_get(st, S_MEAS_NEXT_REPLICATE))) {
			mg_sample_clear(&smp);
			store_rollback(st);
			return MG_ERR_IO;
		}
		bind_text(s, 1, in->sample_id);
		rc = db_step(s);
		if (rc == DB_ROW)
			replicate = (int)db_col_int64(s, 0);
		else
			e = store_sql_fail(st, what);
		stmt_put(st, S_MEAS_NEXT_REPLICATE, s);
		if (e != MG_OK) {
			mg_sample_clear(&smp);
			store_rollback(st);
			return e;
		}
	}
	/* UUID and file are unique. Checked here, under the write lock, rather than
	 * left to the UNIQUE constraints: a refused insert would use up an id on
	 * PostgreSQL (its sequences do not roll back). */
	if (!(s = stmt_get(st, S_MEAS_EXISTS))) {
		mg_sample_clear(&smp);
		store_rollback(st);
		return MG_ERR_IO;
	}
	bind_text(s, 1, uuid);
	bind_text(s, 2, rel);
	rc = db_step(s);
	if (rc == DB_ROW)
		e = mg_fail(MG_ERR_EXISTS, STORE_DOM, "%s: already registered (measurement %lld has this %s)", what,
		            db_col_int64(s, 0), strcmp(db_col_text(s, 1), uuid) == 0 ? "UUID" : "file");
	else if (rc != DB_DONE)
		e = store_sql_fail(st, what);
	stmt_put(st, S_MEAS_EXISTS, s);
	if (e != MG_OK) {
		mg_sample_clear(&smp);
		store_rollback(st);
		return e;
	}
	if (!(s = stmt_get(st, S_MEAS_INSERT))) {
		mg_sample_clear(&smp);
		store_rollback(st);
		return MG_ERR_IO;
	}
	bind_text(s, 1, uuid);
	bind_text(s, 2, in->sample_id);
	bind_text(s, 3, smp.batch_id);
	bind_text(s, 4, in->kind);
	bind_text(s, 5, rel);
	bind_text(s, 6, sha);
	db_bind_int64(s, 7, size);
	bind_text(s, 8, in->instrument_model);
	bind_text(s, 9, in->instrument_serial);
	bind_text(s, 10, in->instrument_firmware);
	bind_text(s, 11, in->settings_json);
	bind_text(s, 12, in->started_at);
	bind_text(s, 13, in->ended_at);
	bind_real(s, 14, in->live_time_s);
	bind_real(s, 15, in->real_time_s);
	bind_real(s, 16, in->total_counts);
	bind_text(s, 17, in->operator_name);
	bind_text(s, 18, in->status);
	db_bind_int64(s, 19, replicate);
	bind_text(s, 20, in->notes);
	rc = db_step(s);
	e = rc == DB_DONE ? MG_OK : store_sql_fail(st, what);
	stmt_put(st, S_MEAS_INSERT, s);
	long long id = 0;
	if (e == MG_OK)
		e = store_last_id(st, what, &id);
	if (e == MG_OK) {
		json_t *d = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:i}", "id", (json_int_t)id, "sample", in->sample_id,
		                      "batch", smp.batch_id, "file", rel, "sha256", sha, "size", (json_int_t)size,
		                      "status", in->status, "replicate", replicate);
		char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
		json_decref(d);
		e = store_event(st, in->operator_name, "measurement.add", "measurement", uuid, text);
		free(text);
	}
	mg_sample_clear(&smp);
	if ((e = store_end(st, e, what)) != MG_OK)
		return e;
	if (id_out)
		*id_out = id;
	if (replicate_out)
		*replicate_out = replicate;
	mg_dbg(STORE_DOM, "measurement %lld (%s) registered: %s, sha256 %s", id, uuid, rel, sha);
	return MG_OK;
}

static int get_one(mg_store *st, enum stmt_id sid, long long id, const char *uuid, mg_measurement *out)
{
	db_stmt *s = stmt_get(st, sid);
	if (!s)
		return MG_ERR_IO;
	if (uuid)
		bind_text(s, 1, uuid);
	else
		db_bind_int64(s, 1, id);
	int rc = db_step(s), e;
	if (rc == DB_ROW)
		e = store_fill_measurement(s, out, 1);
	else if (rc == DB_DONE && uuid)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "no measurement with UUID %s in the store at %s", uuid, st->dir);
	else if (rc == DB_DONE)
		e = mg_fail(MG_ERR_NOT_FOUND, STORE_DOM, "no measurement %lld in the store at %s", id, st->dir);
	else
		e = store_sql_fail(st, "looking up a measurement");
	stmt_put(st, sid, s);
	return e;
}

int mg_store_measurement_get(mg_store *st, long long id, mg_measurement *out)
{
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_measurement_get: bad arguments");
	memset(out, 0, sizeof(*out));
	return get_one(st, S_MEAS_GET, id, NULL, out);
}

int mg_store_measurement_get_uuid(mg_store *st, const char *uuid, mg_measurement *out)
{
	int e;
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_measurement_get_uuid: bad arguments");
	memset(out, 0, sizeof(*out));
	if ((e = mg_uuid_validate(uuid)) != MG_OK)
		return e;
	char lower[MG_UUID_SIZE];
	for (int i = 0; i < MG_UUID_SIZE; i++)
		lower[i] = (char)tolower((unsigned char)uuid[i]);
	return get_one(st, S_MEAS_GET_UUID, 0, lower, out);
}

/* Step a bound listing statement: each row as a borrowed measurement to cb
 * (non-zero stops; negative is returned). The count visited, or an error. */
static int visit(mg_store *st, enum stmt_id sid, db_stmt *s, mg_measurement_cb cb, void *userdata, const char *what)
{
	int n = 0, rc, e = MG_OK;
	while ((rc = db_step(s)) == DB_ROW) {
		mg_measurement m;
		store_fill_measurement(s, &m, 0);
		n++;
		int r = cb(&m, userdata);
		if (r) {
			e = r < 0 ? r : MG_OK;
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE)
		e = store_sql_fail(st, what);
	stmt_put(st, sid, s);
	return e < 0 ? e : n;
}

int mg_store_measurements_list(mg_store *st, const char *batch_id, const char *sample_id, mg_measurement_cb cb,
                               void *userdata)
{
	int e;
	if (!st || !cb)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_measurements_list: bad arguments");
	if (batch_id && (e = store_id_check("batch id", batch_id)) != MG_OK)
		return e;
	if (sample_id && (e = store_id_check("sample id", sample_id)) != MG_OK)
		return e;
	db_stmt *s = stmt_get(st, S_MEAS_LIST);
	if (!s)
		return MG_ERR_IO;
	bind_text(s, 1, batch_id);
	bind_text(s, 2, sample_id);
	return visit(st, S_MEAS_LIST, s, cb, userdata, "listing measurements");
}

/* "2024-05-01" or "2024-05-01T12:00[:00[.000]][Z]": digits where digits go. */
static int since_check(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t n = strlen(s);
	if (n != 10 && n != 16 && n != 19 && !(n > 19 && s[19] == '.') && !(n == 20 && s[19] == 'Z'))
		goto bad;
	for (size_t i = 0; i < n && i < 19; i++)
		if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
			goto bad;
	for (size_t i = 20; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (i == n - 1 && s[i] == 'Z')))
			goto bad;
	return MG_OK;
bad:
	return mg_fail(MG_ERR_ARG, STORE_DOM, "'%s' is not a date: use YYYY-MM-DD or YYYY-MM-DDThh:mm:ss (UTC)", s);
}

int mg_store_measurements_scan(mg_store *st, const mg_measurement_filter *f, long long after_id, int limit,
                               mg_measurement_cb cb, void *userdata)
{
	int e;
	static const mg_measurement_filter none = {0};
	if (!f)
		f = &none;
	if (!st || !cb || limit < 1 || limit > 100000 || after_id < 0)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_measurements_scan: bad arguments");
	if (f->batch_id && (e = store_id_check("batch id", f->batch_id)) != MG_OK)
		return e;
	if (f->sample_id && (e = store_id_check("sample id", f->sample_id)) != MG_OK)
		return e;
	if (f->kind && strcmp(f->kind, "xrf") != 0 && strcmp(f->kind, "icp") != 0)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "measurement kind '%s': xrf or icp", f->kind);
	if (f->since && (e = since_check(f->since)) != MG_OK)
		return e;
	db_stmt *s = stmt_get(st, S_MEAS_SCAN);
	if (!s)
		return MG_ERR_IO;
	db_bind_int64(s, 1, after_id);
	bind_text(s, 2, f->batch_id);
	bind_text(s, 3, f->sample_id);
	bind_text(s, 4, f->kind);
	bind_text(s, 5, f->since);
	db_bind_int64(s, 6, limit);
	return visit(st, S_MEAS_SCAN, s, cb, userdata, "scanning measurements");
}

int store_verify_file(mg_store *st, const mg_measurement *m, char got[MG_SHA256_HEX_SIZE], const char **what_out)
{
	char *abs = NULL, sha[MG_SHA256_HEX_SIZE] = "";
	long long size = 0;
	int e = mg_store_abspath(st, m->file, &abs);
	if (e != MG_OK) {
		*what_out = "file_missing";
		return e;
	}
	e = mg_sha256_file(abs, sha, &size);
	if (got)
		memcpy(got, sha, sizeof(sha));
	if (e != MG_OK) {
		char why[512];
		snprintf(why, sizeof(why), "%s", mg_error_detail());
		*what_out = "file_missing";
		e = mg_fail(e, STORE_DOM, "measurement %lld: its file cannot be read: %s", m->id, why);
	} else if (size != m->size) {
		*what_out = "file_size";
		e = mg_fail(MG_ERR_CHECKSUM, STORE_DOM,
		            "measurement %lld: its file %s is %lld bytes, %lld when registered (SHA-256 now %s, "
		            "registered %s)",
		            m->id, abs, size, m->size, sha, m->sha256 ? m->sha256 : "?");
	} else if (!m->sha256 || strcmp(sha, m->sha256) != 0) {
		*what_out = "file_hash";
		e = mg_fail(MG_ERR_CHECKSUM, STORE_DOM,
		            "measurement %lld: its file %s has SHA-256 %s, registered %s: the content changed", m->id,
		            abs, sha, m->sha256 ? m->sha256 : "?");
	}
	free(abs);
	return e;
}

int mg_store_measurement_verify(mg_store *st, const mg_measurement *m, char got_sha256[MG_SHA256_HEX_SIZE])
{
	const char *what = NULL;
	if (!st || !m || !m->file)
		return mg_fail(MG_ERR_ARG, STORE_DOM, "mg_store_measurement_verify: bad arguments");
	return store_verify_file(st, m, got_sha256, &what);
}
