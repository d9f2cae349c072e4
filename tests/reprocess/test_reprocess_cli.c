/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `magassay reprocess` as a user runs it (the binary is argv[1]): --help,
 * usage errors (exit 2), the JSON for a LIMS, a second run that changes
 * nothing, a dry run, the text report, a shard, a failed spectrum (exit 1).
 * With a second argument "pg" the store is on the PostgreSQL server of
 * MAGASSAY_TEST_PG (through --db). */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "magassay/analysis.h"
#include "magassay/error.h"
#include "magassay/quant.h"
#include "magassay/store.h"
#include "pgtest.h"
#include "run.h"
#include "sim_archive.h"

#define N 12

static const char *exe;
static char *db_url;
static char env_data[700];

/* Run `magassay reprocess ARGS... [--db URL]` with MAGASSAY_DATA set. */
static int reprocess(mg_test_output *o, ...)
{
	const char *argv[32] = {exe, "reprocess"};
	int argc = 2;
	va_list ap;
	va_start(ap, o);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 28;)
		argv[argc++] = a;
	va_end(ap);
	if (db_url) {
		argv[argc++] = "--db";
		argv[argc++] = db_url;
	}
	argv[argc] = NULL;
	const char *env[] = {env_data, NULL};
	return mg_test_run(argv, env, o);
}

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, 0, &err);
	if (!v)
		fprintf(stderr, "not JSON (%s): %s\n", err.text, text);
	return v;
}

static long long jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

static void make_store(const char *dir)
{
	mg_store *st = NULL;
	CHECK_RC(mg_store_open_db(dir, db_url, MG_STORE_DEFAULT, &st), MG_OK);
	if (!st)
		return;
	sim_archive a;
	CHECK_RC(sim_archive_open(&a), 0);
	CHECK_RC(sim_archive_add(&a, st, "LOT-7", N, 3, 20, 77, NULL, NULL, NULL), 0);
	sim_archive_close(&a);
	mg_analysis_config d;
	mg_analysis_config_default(&d);
	d.det.noise_kev = 0.08;
	mg_energy_cal cal = {.valid = 1, .offset_kev = 0, .gain_kev = 0.02};
	for (int i = 0; i < 2; i++) {
		mg_calib_record r;
		memset(&r, 0, sizeof r);
		snprintf(r.kind, sizeof r.kind, "resolution");
		snprintf(r.name, sizeof r.name, "dp5-sim");
		if (i == 1)
			cal.gain_kev *= 1.001; /* version 2: a little off */
		r.payload_json = mg_calib_energy_payload(&cal, &d.det);
		CHECK_RC(mg_calib_record_store(st, &r), 0);
		mg_calib_record_clear(&r);
	}
	mg_store_close(st);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		mg_test_skip("usage: test_reprocess_cli MAGASSAY_BINARY [pg]");
	exe = argv[1];
	if (argc > 2 && strcmp(argv[2], "pg") == 0) {
		mg_test_pg_require();
		db_url = mg_test_pg_create();
		if (!db_url)
			return 1;
	}
	const char *dir = mg_test_tmpdir();
	snprintf(env_data, sizeof env_data, "MAGASSAY_DATA=%s", dir);
	make_store(dir);
	mg_test_output o;

	/* help and usage errors */
	CHECK(reprocess(&o, "--help", NULL) == 0 && strstr(o.out, "--shard K/N") && strstr(o.out, "Exit status"));
	mg_test_output_clear(&o);
	CHECK(reprocess(&o, NULL) == 2 && strstr(o.err, "say what to reprocess"));
	mg_test_output_clear(&o);
	CHECK(reprocess(&o, "--all", "--batch", "LOT-7", NULL) == 2);
	mg_test_output_clear(&o);
	CHECK(reprocess(&o, "--all", "--shard", "4/3", NULL) == 2 && strstr(o.err, "K/N"));
	mg_test_output_clear(&o);
	CHECK(reprocess(&o, "--all", "--jobs", "0", NULL) == 2);
	mg_test_output_clear(&o);
	CHECK(reprocess(&o, "--since", "soon", "-q", NULL) == 1 && strstr(o.err, "not a date"));
	mg_test_output_clear(&o);
	CHECK(reprocess(&o, "--all", "--calib", "quant:nothing-like-it", "-q", NULL) == 1);
	mg_test_output_clear(&o);

	/* first results with version 2 (a little off), then the dry run and the real run with version 1 */
	CHECK(reprocess(&o, "--all", "--calib", "resolution:dp5-sim@2", "--json", NULL) == 0);
	json_t *j = parse(o.out);
	CHECK(jint(j, "selected") == N && jint(j, "recomputed") == N && jint(j, "compared") == 0);
	json_decref(j);
	mg_test_output_clear(&o);
	CHECK(reprocess(&o, "--batch", "LOT-7", "--calib", "resolution:dp5-sim@1", "--dry-run", "--json", NULL) == 0);
	j = parse(o.out);
	CHECK(jint(j, "recomputed") == N && jint(j, "compared") == N && json_is_true(json_object_get(j, "dry_run")));
	json_t *els = json_object_get(j, "elements");
	CHECK(json_is_array(els) && json_array_size(els) >= 6);
	json_decref(j);
	mg_test_output_clear(&o);
	CHECK(reprocess(&o, "--batch", "LOT-7", "--calib", "resolution:dp5-sim@1", "--jobs", "2", "--json", NULL) == 0);
	j = parse(o.out);
	CHECK(jint(j, "recomputed") == N && jint(j, "up_to_date") == 0 && jint(j, "compared") == N); /* the dry run wrote nothing */
	long long grade_changes = jint(j, "grade_changes");
	json_t *ch = json_object_get(j, "changes");
	CHECK(json_is_array(ch) && (long long)json_array_size(ch) >= grade_changes);
	json_decref(j);
	mg_test_output_clear(&o);

	/* again: nothing to do; the text report says so */
	CHECK(reprocess(&o, "--since", "2000-01-01", "--calib", "resolution:dp5-sim@1", NULL) == 0);
	CHECK_MSG(strstr(o.out, "0 new result versions, 12 up to date") != NULL, "%s", o.out);
	CHECK(strstr(o.out, "compared with the previous version: 12 measurements") != NULL);
	mg_test_output_clear(&o);

	/* a shard takes its part only */
	CHECK(reprocess(&o, "--all", "--calib", "resolution:dp5-sim@2", "--shard", "1/2", "--json", NULL) == 0);
	j = parse(o.out);
	long long s1 = jint(j, "selected");
	CHECK(s1 > 0 && s1 < N && jint(j, "recomputed") == s1);
	json_decref(j);
	mg_test_output_clear(&o);

	/* a spectrum file gone: reported, the rest done, exit 1 */
	mg_store *st = NULL;
	mg_measurement m;
	memset(&m, 0, sizeof m);
	char *abs = NULL;
	CHECK_RC(mg_store_open_db(dir, db_url, MG_STORE_DEFAULT, &st), MG_OK);
	CHECK_RC(mg_store_measurement_get(st, 2, &m), MG_OK);
	CHECK_RC(mg_store_abspath(st, m.file, &abs), MG_OK);
	mg_store_close(st);
	CHECK(abs && remove(abs) == 0);
	/* (other settings, so that every measurement is due whatever the shard did) */
	CHECK(reprocess(&o, "--all", "--calib", "resolution:dp5-sim@2", "--elements", "Fe,Co,Nd,Pr,Dy,Tb,Zn", "--json",
	                NULL) == 1);
	j = parse(o.out);
	json_t *fails = json_object_get(j, "failures");
	CHECK(json_array_size(fails) == 1 && jint(json_array_get(fails, 0), "measurement_id") == 2);
	CHECK(jint(j, "failed") == 1 && jint(j, "recomputed") == N - 1);
	json_decref(j);
	mg_test_output_clear(&o);
	mg_measurement_clear(&m);
	free(abs);
	free(db_url);
	if (argc > 2)
		mg_test_pg_drop_all();
	return mg_test_finish(argc > 2 ? "test_reprocess_cli pg" : "test_reprocess_cli");
}
