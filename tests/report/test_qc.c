/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Batch QC against a filled store: control limits from history, the rules on
 * the batch's points, the XRF-ICP bias per batch, ICP run checks, and the
 * release: refused while a rule is violated, allowed with a recorded
 * override (who and why), refused twice, and refused when QC data changed
 * while the batch was judged. Also the store's QC records (schema v2). */
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "magassay/error.h"
#include "magassay/qc.h"
#include "magassay/store_qc.h"

static const mg_qc_series *find(const mg_qc_status *s, const char *q, const char *t)
{
	for (size_t i = 0; i < s->nseries; i++)
		if (!strcmp(s->series[i].quantity, q) && !strcmp(s->series[i].target, t))
			return &s->series[i];
	return NULL;
}

static int count_rows(const char *dir, const char *sql)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/magassay.db", dir);
	sqlite3 *db;
	int n = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return n;
}

static void test_schema(fx *f)
{
	CHECK(count_rows(f->dir, "PRAGMA user_version") == MG_STORE_SCHEMA_VERSION);
	CHECK(count_rows(f->dir, "SELECT count(*) FROM qc_values") == 12 * 6 + 6 + 2);
	/* append-only */
	char path[600], *err = NULL;
	snprintf(path, sizeof(path), "%s/magassay.db", f->dir);
	sqlite3 *db;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "UPDATE qc_values SET value = 0", NULL, NULL, &err) != SQLITE_OK);
	sqlite3_free(err);
	err = NULL;
	CHECK(sqlite3_exec(db, "DELETE FROM qc_values", NULL, NULL, &err) != SQLITE_OK);
	sqlite3_free(err);
	sqlite3_close(db);
	/* bad records */
	mg_new_qc_value v = {.quantity = "Peak", .target = "Cu Ka", .value = 1};
	CHECK_RC(mg_store_qc_value_add(f->st, &v, NULL), MG_ERR_ARG);
	v.quantity = "peak_position";
	v.value = NAN;
	CHECK_RC(mg_store_qc_value_add(f->st, &v, NULL), MG_ERR_ARG);
	v.value = 1;
	v.target = "";
	CHECK_RC(mg_store_qc_value_add(f->st, &v, NULL), MG_ERR_ARG);
	v.target = "Cu Ka";
	v.batch_id = "NO-SUCH-LOT";
	CHECK_RC(mg_store_qc_value_add(f->st, &v, NULL), MG_ERR_NOT_FOUND);
}

static void test_failing_lot(fx *f)
{
	mg_qc_status *s = NULL;
	CHECK_RC(mg_qc_status_get(f->st, "L2024-07", NULL, &s), MG_OK);
	if (!s)
		return;
	CHECK(s->state == MG_QC_FAIL);
	const mg_qc_series *pk = find(s, "peak_position", "Cu Ka");
	CHECK(pk != NULL);
	if (pk) {
		CHECK(pk->has_limits);
		CHECK(pk->n_baseline == 24);
		CHECK_NEAR(pk->mean, f->peak_mean, 1e-9);
		CHECK_NEAR(pk->sd, f->peak_sd, 1e-9);
		CHECK(pk->npoints == 26);
		/* the first batch point: only the warning; the second completes 2-2s */
		CHECK(pk->points[24].in_batch && pk->points[25].in_batch);
		CHECK(pk->points[24].flags == MG_WG_1_2S);
		CHECK(pk->points[25].flags == (MG_WG_1_2S | MG_WG_2_2S));
		CHECK_NEAR(pk->points[25].z, 2.6, 1e-6);
		CHECK(pk->n_reject == 1);
		CHECK(pk->state == MG_QC_FAIL);
		CHECK(strcmp(pk->unit, "keV") == 0);
		CHECK(strcmp(pk->instrument, "SN-4711") == 0);
	}
	const mg_qc_series *fw = find(s, "fwhm", "Mn Ka");
	CHECK(fw && fw->state == MG_QC_PASS && fw->n_reject == 0);
	const mg_qc_series *nd = find(s, "xrf_icp_bias", "Nd");
	CHECK(nd != NULL);
	if (nd) {
		CHECK(nd->npoints == 13); /* 12 history lots + this one */
		CHECK(nd->points[12].in_batch);
		CHECK_NEAR(nd->points[12].value, 100 * (1 / 0.998 - 1), 1e-6);
		CHECK(nd->points[12].n == 2);
		CHECK(nd->state == MG_QC_PASS);
	}
	CHECK(s->nchecks == 4); /* CCV and CCB of each ICP result */
	CHECK(s->n_violations == 1);
	CHECK(!s->released);
	int note = 0;
	for (size_t i = 0; i < s->nnotes; i++)
		if (strstr(s->notes[i], "2-2s") && strstr(s->notes[i], "recalibrate the energy"))
			note = 1;
	CHECK_MSG(note, "a note names the rule and the advice");
	char *json = NULL;
	CHECK_RC(mg_qc_status_json(s, &json), MG_OK);
	json_t *j = json ? json_loads(json, 0, NULL) : NULL;
	CHECK(j && !strcmp(json_string_value(json_object_get(j, "state")), "fail"));
	CHECK(j && json_is_false(json_object_get(j, "releasable")));
	json_decref(j);
	free(json);
	mg_qc_status_free(s);

	/* restricted rules: without 2-2s the lot passes with a warning */
	mg_qc_options o;
	mg_qc_options_default(&o);
	o.rules = MG_WG_ALL & ~MG_WG_2_2S;
	CHECK_RC(mg_qc_status_get(f->st, "L2024-07", &o, &s), MG_OK);
	CHECK(s && s->state == MG_QC_WARNING && s->n_violations == 0);
	mg_qc_status_free(s);
	/* too little history for limits: a warning, never a violation */
	mg_qc_options_default(&o);
	o.min_history = 100;
	CHECK_RC(mg_qc_status_get(f->st, "L2024-07", &o, &s), MG_OK);
	CHECK(s && s->state == MG_QC_WARNING && s->n_violations == 0);
	if (s) {
		const mg_qc_series *x = find(s, "peak_position", "Cu Ka");
		CHECK(x && !x->has_limits && isnan(x->mean));
	}
	mg_qc_status_free(s);
	CHECK_RC(mg_qc_status_get(f->st, "NO-SUCH-LOT", NULL, &s), MG_ERR_NOT_FOUND);
	CHECK_RC(mg_qc_status_get(f->st, "../x", NULL, &s), MG_ERR_ARG);
}

static void test_bias_and_checks(fx *f)
{
	mg_qc_status *s = NULL;
	CHECK_RC(mg_qc_status_get(f->st, "L2024-09", NULL, &s), MG_OK);
	if (!s)
		return;
	const mg_qc_series *nd = find(s, "xrf_icp_bias", "Nd");
	CHECK(nd && nd->state == MG_QC_FAIL && (nd->batch_flags & MG_WG_1_3S));
	const mg_qc_series *pr = find(s, "xrf_icp_bias", "Pr");
	CHECK(pr && pr->state != MG_QC_FAIL);
	int failed = 0;
	for (size_t i = 0; i < s->nchecks; i++)
		if (s->checks[i].failed) {
			failed++;
			CHECK(strstr(s->checks[i].name, "CCV") != NULL);
			CHECK(s->checks[i].detail && strstr(s->checks[i].detail, "113.4"));
		}
	CHECK(failed == 1);
	CHECK(s->n_violations == 2);
	int recal = 0;
	for (size_t i = 0; i < s->nnotes; i++)
		if (strstr(s->notes[i], "recalibrate the XRF quantification"))
			recal = 1;
	CHECK_MSG(recal, "the bias note suggests recalibration");
	mg_qc_status_free(s);
}

static void test_release(fx *f)
{
	mg_qc_status *s = NULL;
	/* refused: positive count, nothing written */
	int rc = mg_qc_release(f->st, "L2024-07", "Q. Manager", NULL, NULL, NULL, &s);
	CHECK_MSG(rc == 1, "refused with 1 violation, got %d", rc);
	CHECK(strstr(mg_error_detail(), "cannot be released") != NULL);
	CHECK(s && !s->released);
	mg_qc_status_free(s);
	mg_qc_release_record rel;
	CHECK_RC(mg_store_qc_release_get(f->st, "L2024-07", &rel), MG_ERR_NOT_FOUND);
	CHECK(count_rows(f->dir, "SELECT count(*) FROM qc_releases") == 0);
	/* an override needs who and why */
	CHECK_RC(mg_qc_release(f->st, "L2024-07", NULL, "Q. Manager", NULL, NULL, NULL), MG_ERR_ARG);
	CHECK_RC(mg_qc_release(f->st, "L2024-07", NULL, "Q. Manager", "   ", NULL, NULL), MG_ERR_ARG);
	CHECK_RC(mg_qc_release(f->st, "L2024-07", NULL, " ", "because", NULL, NULL), MG_ERR_ARG);
	CHECK_RC(mg_qc_release(f->st, "L2024-07", NULL, NULL, "a reason alone", NULL, NULL), MG_ERR_ARG);
	CHECK(count_rows(f->dir, "SELECT count(*) FROM qc_overrides") == 0);

	/* QC data arriving between judgement and release: nothing written */
	mg_qc_status *j = NULL;
	CHECK_RC(mg_qc_status_get(f->st, "L2024-07", NULL, &j), MG_OK);
	mg_new_qc_value v = {.quantity = "fwhm", .target = "Mn Ka", .instrument = "SN-4711", .value = 140.1, .unit = "eV",
	                     .batch_id = "H01", .measured_at = "2024-06-01T09:00:00.000Z"};
	CHECK_RC(mg_store_qc_value_add(f->st, &v, NULL), MG_OK);
	CHECK_RC(mg_store_qc_release_add(f->st, "L2024-07", "Q. Manager", "Q. Manager", "why", "[]", NULL, &j->watermark,
	                                 NULL),
	         MG_ERR_BUSY);
	mg_qc_status_free(j);
	CHECK(count_rows(f->dir, "SELECT count(*) FROM qc_releases") == 0);
	CHECK(count_rows(f->dir, "SELECT count(*) FROM qc_overrides") == 0);

	/* with the override: released, the override recorded with the violations */
	rc = mg_qc_release(f->st, "L2024-07", "Q. Manager", "Dr. A. Lovelace",
	                   "energy drift checked by hand: Cu Ka 8.0497 keV, within the method's 5 eV tolerance", NULL, &s);
	CHECK_RC(rc, MG_OK);
	CHECK(s && s->released && s->override_by && !strcmp(s->override_by, "Dr. A. Lovelace"));
	mg_qc_status_free(s);
	CHECK_RC(mg_store_qc_release_get(f->st, "L2024-07", &rel), MG_OK);
	CHECK(rel.qc_state && !strcmp(rel.qc_state, "override"));
	CHECK(rel.released_by && !strcmp(rel.released_by, "Q. Manager"));
	CHECK(rel.reason && strstr(rel.reason, "8.0497"));
	CHECK(rel.override_id > 0);
	mg_qc_release_record_clear(&rel);
	CHECK(count_rows(f->dir, "SELECT count(*) FROM qc_overrides WHERE batch_id = 'L2024-07' "
	                         "AND json_array_length(violations) = 1 AND violations LIKE '%2-2s%'") == 1);
	CHECK(count_rows(f->dir, "SELECT count(*) FROM events WHERE action = 'qc.override' AND actor = 'Dr. A. Lovelace'") ==
	      1);
	CHECK(count_rows(f->dir, "SELECT count(*) FROM events WHERE action = 'qc.release' AND entity_id = 'L2024-07'") == 1);
	/* once only */
	CHECK_RC(mg_qc_release(f->st, "L2024-07", NULL, NULL, NULL, NULL, NULL), MG_ERR_EXISTS);
	CHECK(strstr(mg_error_detail(), "released by Q. Manager") != NULL);
	/* the status says so */
	CHECK_RC(mg_qc_status_get(f->st, "L2024-07", NULL, &s), MG_OK);
	CHECK(s && s->released && !strcmp(s->release_state, "override") && s->override_reason);
	mg_qc_status_free(s);

	/* an in-control lot is released without an override */
	CHECK_RC(mg_qc_status_get(f->st, "L2024-08", NULL, &s), MG_OK);
	CHECK(s && s->state == MG_QC_PASS);
	mg_qc_status_free(s);
	CHECK_RC(mg_qc_release(f->st, "L2024-08", NULL, "nobody", "not needed", NULL, NULL), MG_OK);
	CHECK_RC(mg_store_qc_release_get(f->st, "L2024-08", &rel), MG_OK);
	CHECK(!strcmp(rel.qc_state, "pass") && rel.override_id == 0 && rel.override_by == NULL);
	mg_qc_release_record_clear(&rel);
	/* a lot with no QC data is not blocked */
	CHECK_RC(mg_store_batch_ensure(f->st, "EMPTY-1", NULL, NULL), MG_OK);
	CHECK_RC(mg_qc_status_get(f->st, "EMPTY-1", NULL, &s), MG_OK);
	CHECK(s && s->state == MG_QC_NO_DATA && s->nnotes == 1);
	mg_qc_status_free(s);
}

static void test_series_and_check_standard(fx *f)
{
	mg_qc_series *x = NULL;
	CHECK_RC(mg_qc_series_get(f->st, "intensity", "Cu Ka", "SN-4711", NULL, &x), MG_OK);
	CHECK(x && x->npoints == 26 && x->has_limits && x->n_baseline == 26);
	mg_qc_series_free(x);
	CHECK_RC(mg_qc_series_get(f->st, "intensity", "Zn Ka", "SN-4711", NULL, &x), MG_OK);
	CHECK(x && x->npoints == 0 && !x->has_limits);
	mg_qc_series_free(x);

	/* derived values of a check-standard result */
	const char *payload = "{\"calibration\": {\"offset_kev\": -0.010, \"gain_kev\": 0.0201, \"quad_kev\": 0,"
	                      " \"noise_kev\": 0.08, \"fano\": 0.114},"
	                      " \"families\": [{\"element\": \"Cu\", \"family\": \"L\", \"cps\": 50},"
	                      " {\"element\": \"Cu\", \"family\": \"K\", \"cps\": 10234.5}]}";
	const double ref[3] = {0.0, 0.02, 0.0};
	mg_qc_check_values v;
	CHECK_RC(mg_qc_check_standard_values(payload, "Cu", 8.048, ref, &v), MG_OK);
	/* the line sits at channel (8.048 + 0.010)/0.0201 on the reference axis */
	CHECK_NEAR(v.peak_kev, 0.02 * (8.048 + 0.010) / 0.0201, 1e-9);
	CHECK_NEAR(v.fwhm_ev, 1000 * sqrt(0.08 * 0.08 + 2.3548 * 2.3548 * 0.114 * 0.00385 * 8.048), 1e-9);
	CHECK_NEAR(v.cps, 10234.5, 1e-9);
	CHECK_RC(mg_qc_check_standard_values(payload, "Cu", 8.048, NULL, &v), MG_OK);
	CHECK(isnan(v.peak_kev));
	CHECK_RC(mg_qc_check_standard_values("{\"qc\": {\"fwhm_ev\": 133}}", "Cu", 8.048, ref, &v), MG_OK);
	CHECK(v.fwhm_ev == 133 && isnan(v.cps));
	CHECK_RC(mg_qc_check_standard_values("[1,2", "Cu", 8.048, ref, &v), MG_ERR_FORMAT);

	/* recorded from a stored measurement: three values in its lot */
	int before = count_rows(f->dir, "SELECT count(*) FROM qc_values WHERE target = 'Cu Ka' AND batch_id = 'L2024-08'");
	CHECK_RC(mg_store_result_add(f->st, f->xrf[0], 0, NULL, payload, NULL, NULL), MG_OK);
	int n = mg_qc_record_check_standard(f->st, f->xrf[0], "Cu-disc", "Cu", "Ka", 8.048, ref, "J. Doe");
	CHECK_MSG(n == 3, "recorded %d values: %s", n, mg_error_detail());
	CHECK(count_rows(f->dir, "SELECT count(*) FROM qc_values WHERE target = 'Cu Ka' AND batch_id = 'L2024-07' "
	                         "AND measurement_id IS NOT NULL") == 3);
	CHECK(count_rows(f->dir, "SELECT count(*) FROM qc_values WHERE target = 'Cu Ka' AND batch_id = 'L2024-08'") ==
	      before);
}

int main(void)
{
	fx f;
	const char *dir = mg_test_tmpdir();
	if (fx_build(dir, &f) != MG_OK) {
		fprintf(stderr, "cannot build the test store\n");
		return 1;
	}
	test_schema(&f);
	test_failing_lot(&f);
	test_bias_and_checks(&f);
	test_release(&f);
	test_series_and_check_standard(&f);
	fx_close(&f);
	return mg_test_finish("test_qc");
}
