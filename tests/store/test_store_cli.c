/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `magassay list` and `magassay show` run as a user would: a store is filled
 * through the library, then the built binary (argv[1]) is run and its output,
 * JSON and exit status checked. With the argument "pg" after the binary, the
 * same against a fresh PostgreSQL database (MAGASSAY_TEST_PG) through --db. */
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "run.h"
#include "magassay/error.h"
#include "magassay/store.h"
#include "pgtest.h"

static const char *exe;
static char *db_url; /* PostgreSQL: every command gets --db db_url */
static char *out_text, *err_text;

/* Run the binary with the given arguments (NULL-terminated); env_data sets MAGASSAY_DATA. */
static int run(const char *env_data, ...)
{
	const char *argv[32];
	int argc = 0;
	va_list ap;
	argv[argc++] = exe;
	va_start(ap, env_data);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && argc < 29)
		argv[argc++] = a;
	va_end(ap);
	if (db_url) {
		argv[argc++] = "--db";
		argv[argc++] = db_url;
	}
	argv[argc] = NULL;
	free(out_text);
	free(err_text);
	char data[700];
	snprintf(data, sizeof data, "MAGASSAY_DATA=%s", env_data ? env_data : "");
	const char *env[] = {env_data ? data : "MAGASSAY_DATA", NULL};
	mg_test_output o;
	int rc = mg_test_run(argv, env, &o);
	out_text = o.out;
	err_text = o.err;
	return rc;
}

static json_t *out_json(void)
{
	json_error_t err;
	json_t *v = json_loads(out_text, 0, &err);
	if (!v)
		fprintf(stderr, "not JSON (%s): %s\n", err.text, out_text);
	return v;
}

static int has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static long long add_meas(mg_store *st, const char *batch, const char *sample, const char *content,
                          char uuid[MG_UUID_SIZE])
{
	char *path = NULL;
	long long id = 0;
	mg_uuid_generate(uuid);
	if (mg_store_spectrum_path(st, batch, sample, uuid, NULL, &path) != MG_OK)
		return 0;
	FILE *f = fopen(path, "wb");
	fputs(content, f);
	fclose(f);
	mg_new_measurement m;
	mg_new_measurement_init(&m);
	m.uuid = uuid;
	m.sample_id = sample;
	m.file = path;
	m.live_time_s = 60;
	m.total_counts = 4242;
	m.instrument_model = "X-123SDD";
	m.settings_json = "{\"TPEA\": \"1.6\"}";
	m.notes = "line one\nline two \x1b[31m red";
	if (mg_store_measurement_add(st, &m, &id, NULL) != MG_OK)
		fprintf(stderr, "add: %s\n", mg_error_detail());
	free(path);
	return id;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		mg_test_skip("give the magassay binary as the first argument");
	exe = argv[1];
	unsetenv("MAGASSAY_DB");
	if (argc > 2 && strcmp(argv[2], "pg") == 0) {
		mg_test_pg_require();
		if (!(db_url = mg_test_pg_create()))
			return 1;
	}
	const char *tmp = mg_test_tmpdir();
	char dir[600], none[600];
	snprintf(dir, sizeof(dir), "%s/data", tmp);
	snprintf(none, sizeof(none), "%s/absent", tmp);

	/* The store: lot L1 with samples S1 (2 measurements, one with results) and S2 (1),
	 * and a batch and a sample both called X1. */
	mg_store *st = NULL;
	if (mg_store_open_db(dir, db_url, MG_STORE_DEFAULT, &st) != MG_OK) {
		fprintf(stderr, "%s\n", mg_error_detail());
		return 1;
	}
	char u1[MG_UUID_SIZE], u2[MG_UUID_SIZE], u3[MG_UUID_SIZE];
	CHECK_RC(mg_store_batch_ensure(st, "L1", "alice", NULL), MG_OK);
	CHECK_RC(mg_store_batch_ensure(st, "X1", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_sample_ensure(st, "S1", "L1", "magnet A", NULL), MG_OK);
	CHECK_RC(mg_store_sample_ensure(st, "S2", "L1", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_sample_ensure(st, "X1", "L1", NULL, NULL), MG_OK);
	long long m1 = add_meas(st, "L1", "S1", "first", u1);
	long long m2 = add_meas(st, "L1", "S1", "second", u2);
	long long m3 = add_meas(st, "L1", "S2", "third", u3);
	CHECK(m1 == 1 && m2 == 2 && m3 == 3);
	mg_new_calibration nc = {"energy", "dp5-a", NULL, NULL, NULL, "{\"gain_kev\": 0.01}"};
	long long cal = 0;
	CHECK_RC(mg_store_calibration_add(st, &nc, NULL, &cal), MG_OK);
	CHECK_RC(mg_store_result_add(st, m1, 0, NULL, "{\"Nd_wt_pct\": 23.1}", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_result_add(st, m1, cal, NULL, "{\"Nd_wt_pct\": 23.4}", NULL, NULL), MG_OK);
	mg_store_close(st);

	/* list */
	CHECK(run(NULL, "list", "batches", "--data-dir", dir, NULL) == 0);
	CHECK(has(out_text, "BATCH") && has(out_text, "L1") && has(out_text, "X1") && has(out_text, "alice"));
	CHECK(run(dir, "list", "batches", "--json", NULL) == 0); /* MAGASSAY_DATA */
	json_t *j = out_json();
	CHECK(json_is_array(j) && json_array_size(j) == 2);
	json_t *l1 = json_array_get(j, 0);
	CHECK(strcmp(json_string_value(json_object_get(l1, "id")), "L1") == 0);
	CHECK(json_integer_value(json_object_get(l1, "samples")) == 3);
	CHECK(json_integer_value(json_object_get(l1, "measurements")) == 3);
	json_decref(j);
	CHECK(run(NULL, "list", "batches", "--batch", "X1", "--json", "--data-dir", dir, NULL) == 0);
	j = out_json();
	CHECK(json_array_size(j) == 1);
	json_decref(j);
	CHECK(run(NULL, "list", "samples", "--data-dir", dir, "--batch", "L1", "--json", NULL) == 0);
	j = out_json();
	CHECK(json_array_size(j) == 3);
	CHECK(json_integer_value(json_object_get(json_array_get(j, 0), "measurements")) == 2);
	json_decref(j);
	CHECK(run(NULL, "list", "samples", "--data-dir", dir, NULL) == 0);
	CHECK(has(out_text, "SAMPLE") && has(out_text, "magnet A"));
	CHECK(run(NULL, "list", "measurements", "--data-dir", dir, "--json", NULL) == 0);
	j = out_json();
	CHECK(json_array_size(j) == 3);
	json_t *jm = json_array_get(j, 0);
	CHECK(strcmp(json_string_value(json_object_get(jm, "uuid")), u1) == 0);
	CHECK(json_integer_value(json_object_get(jm, "results")) == 2);
	CHECK(json_real_value(json_object_get(jm, "live_time_s")) == 60.0);
	CHECK(json_is_null(json_object_get(jm, "real_time_s")));
	CHECK(json_is_object(json_object_get(jm, "settings")));
	json_decref(j);
	CHECK(run(NULL, "list", "measurements", "--sample", "S2", "--data-dir", dir, "--json", NULL) == 0);
	j = out_json();
	CHECK(json_array_size(j) == 1);
	json_decref(j);
	CHECK(run(NULL, "list", "measurements", "--data-dir", dir, NULL) == 0);
	CHECK(has(out_text, "UUID") && has(out_text, "complete") && !has(out_text, "\x1b"));
	/* Failures and usage errors. */
	CHECK(run(NULL, "list", "measurements", "--batch", "NOPE", "--data-dir", dir, NULL) == 1);
	CHECK(has(err_text, "NOPE"));
	CHECK(run(NULL, "list", "batches", "--data-dir", none, NULL) == 1);
	CHECK(has(err_text, "no magassay data directory"));
	struct stat sb;
	CHECK(stat(none, &sb) != 0); /* listing never creates a store */
	CHECK(run(NULL, "list", "bogus", "--data-dir", dir, NULL) == 2);
	CHECK(run(NULL, "list", "--data-dir", dir, NULL) == 2);
	CHECK(run(NULL, "list", "batches", "samples", "--data-dir", dir, NULL) == 2);
	CHECK(run(NULL, "list", "samples", "--batch", "../x", "--data-dir", dir, NULL) == 2);
	CHECK(has(err_text, "starts with '.'"));
	CHECK(run(NULL, "list", "samples", "--sample", "S1", "--data-dir", dir, NULL) == 2);
	CHECK(run(NULL, "list", "--frobnicate", NULL) == 2);
	CHECK(run(NULL, "list", "--help", NULL) == 0 && has(out_text, "Usage: magassay list"));

	/* show: a batch */
	CHECK(run(NULL, "show", "L1", "--data-dir", dir, NULL) == 0);
	CHECK(has(out_text, "batch L1") && has(out_text, "S1") && has(out_text, "S2") && has(out_text, "magnet A"));
	CHECK(run(NULL, "show", "L1", "--data-dir", dir, "--json", NULL) == 0);
	j = out_json();
	CHECK(strcmp(json_string_value(json_object_get(j, "type")), "batch") == 0);
	CHECK(json_array_size(json_object_get(j, "sample_list")) == 3);
	CHECK(json_integer_value(json_object_get(j, "measurements")) == 3);
	json_decref(j);
	/* a sample */
	CHECK(run(NULL, "show", "S1", "--data-dir", dir, NULL) == 0);
	CHECK(has(out_text, "sample S1") && has(out_text, u1) && has(out_text, u2) && !has(out_text, u3));
	CHECK(run(NULL, "show", "S1", "--data-dir", dir, "--json", NULL) == 0);
	j = out_json();
	CHECK(strcmp(json_string_value(json_object_get(j, "type")), "sample") == 0);
	CHECK(json_array_size(json_object_get(j, "measurement_list")) == 2);
	json_decref(j);
	/* a measurement: by id, UUID, UUID prefix */
	CHECK(run(NULL, "show", "1", "--data-dir", dir, NULL) == 0);
	CHECK(has(out_text, "measurement 1") && has(out_text, u1) && has(out_text, "ok (SHA-256 matches)"));
	CHECK(has(out_text, "energy/dp5-a v1") && has(out_text, "2 version(s)"));
	CHECK(!has(out_text, "\x1b") && has(out_text, "line one?line two ?[31m red"));
	CHECK(run(NULL, "show", u1, "--data-dir", dir, "--json", NULL) == 0);
	j = out_json();
	CHECK(strcmp(json_string_value(json_object_get(j, "type")), "measurement") == 0);
	CHECK(json_integer_value(json_object_get(j, "id")) == 1);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(j, "file_check"), "status")), "ok") == 0);
	json_t *rv = json_object_get(j, "result_versions");
	CHECK(json_array_size(rv) == 2);
	CHECK(json_integer_value(json_object_get(json_array_get(rv, 0), "version")) == 1);
	CHECK(json_is_null(json_object_get(json_array_get(rv, 0), "calibration")));
	CHECK(json_real_value(json_object_get(json_object_get(json_array_get(rv, 1), "payload"), "Nd_wt_pct")) == 23.4);
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(json_array_get(rv, 1), "calibration"), "name")),
	             "dp5-a") == 0);
	json_decref(j);
	char prefix[9];
	memcpy(prefix, u3, 8);
	prefix[8] = '\0';
	CHECK(run(NULL, "show", prefix, "--data-dir", dir, NULL) == 0 && has(out_text, u3));

	/* A changed spectrum file is reported, not hidden. */
	char *path = NULL;
	if (mg_store_open_db(dir, db_url, MG_STORE_DEFAULT, &st) == MG_OK) {
		mg_measurement m;
		if (mg_store_measurement_get(st, m2, &m) == MG_OK && mg_store_abspath(st, m.file, &path) == MG_OK) {
			FILE *f = fopen(path, "wb");
			fputs("tampered", f);
			fclose(f);
		}
		mg_measurement_clear(&m);
		mg_store_close(st);
	}
	free(path);
	CHECK(run(NULL, "show", "measurement:2", "--data-dir", dir, "--json", NULL) == 0);
	j = out_json();
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(j, "file_check"), "status")), "mismatch") == 0);
	json_decref(j);
	CHECK(run(NULL, "show", "2", "--data-dir", dir, NULL) == 0 && has(out_text, "MISMATCH"));

	/* Unknown, ambiguous, bad usage. */
	CHECK(run(NULL, "show", "NOPE", "--data-dir", dir, NULL) == 1 && has(err_text, "NOPE"));
	CHECK(run(NULL, "show", "X1", "--data-dir", dir, NULL) == 1 && has(err_text, "ambiguous"));
	CHECK(run(NULL, "show", "batch:X1", "--data-dir", dir, NULL) == 0 && has(out_text, "batch X1"));
	CHECK(run(NULL, "show", "sample:X1", "--data-dir", dir, NULL) == 0 && has(out_text, "sample X1"));
	CHECK(run(NULL, "show", "../../etc/passwd", "--data-dir", dir, NULL) == 1);
	CHECK(run(NULL, "show", "L1", "--data-dir", none, NULL) == 1);
	CHECK(run(NULL, "show", "--data-dir", dir, NULL) == 2);
	CHECK(run(NULL, "show", "L1", "S1", "--data-dir", dir, NULL) == 2);
	CHECK(run(NULL, "show", "--bogus", NULL) == 2);
	CHECK(run(NULL, "show", "--help", NULL) == 0 && has(out_text, "Usage: magassay show"));

	free(out_text);
	free(err_text);
	int pg = db_url != NULL;
	free(db_url);
	mg_test_pg_drop_all();
	if (!mg_test_failures)
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return mg_test_finish(pg ? "test_store_cli (PostgreSQL)" : "test_store_cli");
}
