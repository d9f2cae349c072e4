/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Plots of stored data: a measurement (XRF spectrum or ICP windows), a
 * calibration's curves, a batch's control charts, the batch chart. Each reads
 * the store, builds the plot data and the PNG metadata (sample, batch,
 * calibration, source) and hands over to the plot kinds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

static void cal_list(const rp_result *r, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < r->ncal; i++) {
		int k = snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", r->cal[i].text);
		if (k < 0 || (size_t)k >= cap - len)
			break;
		len += (size_t)k;
	}
}

int mg_report_plot_measurement_png(mg_store *st, long long measurement_id, const mg_plot_opts *o,
                                   const char *path)
{
	if (!st || !path)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_plot_measurement_png: bad arguments");
	mg_measurement m;
	int e = mg_store_measurement_get(st, measurement_id, &m);
	if (e != MG_OK)
		return e;
	rp_result r;
	e = rp_result_load(st, &m, &r);
	mg_measurement_clear(&m);
	if (e != MG_OK)
		return e;
	char title[200], sub[400], cal[600], src[600];
	int icp = r.m.kind && strcmp(r.m.kind, "icp") == 0;
	snprintf(title, sizeof(title), "Sample %s \xE2\x80\x94 %s", r.m.sample_id, icp ? "ICP-OES line windows" : "XRF spectrum");
	cal_list(&r, cal, sizeof(cal));
	snprintf(src, sizeof(src), "measurement %s%s%s", r.m.uuid, r.m.file ? ", archive file " : "",
	         r.m.file ? r.m.file : "");
	if (icp) {
		snprintf(sub, sizeof(sub),
		         "Batch %s \xC2\xB7 measurement %lld (replicate %d) \xC2\xB7 %s \xC2\xB7 first reading; profiles "
		         "re-fitted for the plot",
		         r.m.batch_id, r.m.id, r.m.replicate, r.m.instrument_model ? r.m.instrument_model : "instrument unknown");
		mg_plot_meta meta = {title, sub, r.m.sample_id, r.m.batch_id, cal[0] ? cal : NULL, src};
		rp_icp w;
		e = rp_icp_load(st, &r, &w);
		if (e == MG_OK) {
			e = mg_plot_icp_png(w.w, w.n, &meta, o, path);
			rp_icp_clear(&w);
		}
	} else {
		rp_xrf x;
		e = rp_xrf_load(st, &r, &x);
		if (e == MG_OK) {
			char lt[40] = "";
			if (isfinite(r.m.live_time_s))
				snprintf(lt, sizeof(lt), " \xC2\xB7 live time %.0f s", r.m.live_time_s);
			snprintf(sub, sizeof(sub), "Batch %s \xC2\xB7 measurement %lld (replicate %d)%s \xC2\xB7 %s%s", r.m.batch_id,
			         r.m.id, r.m.replicate, lt,
			         x.fitted ? "fit re-computed from the stored result" : "no fit available: spectrum and element lines",
			         "");
			char calm[800];
			snprintf(calm, sizeof(calm), "%s%s%s", cal, cal[0] ? "; " : "", x.calib);
			mg_plot_meta meta = {title, sub, r.m.sample_id, r.m.batch_id, calm, src};
			e = mg_plot_xrf_png(&x.d, &meta, o, path);
			rp_xrf_clear(&x);
		}
	}
	rp_result_clear(&r);
	return e;
}

int mg_report_plot_calibration_png(mg_store *st, long long calibration_id, const mg_plot_opts *o,
                                   const char *path)
{
	if (!st || !path)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_plot_calibration_png: bad arguments");
	mg_calibration c;
	int e = mg_store_calibration_get(st, calibration_id, &c);
	if (e != MG_OK)
		return e;
	json_t *p = json_loads(c.payload_json ? c.payload_json : "null", JSON_DECODE_ANY, NULL);
	rp_cal cv;
	e = rp_cal_from_payload(p, &cv);
	if (e == MG_OK) {
		char title[200], sub[300], calt[200];
		snprintf(title, sizeof(title), "Calibration %s/%s version %d", c.kind, c.name, c.version);
		snprintf(sub, sizeof(sub), "made %s%s%s \xC2\xB7 %s", c.created_at ? c.created_at : "?",
		         c.operator_name ? " by " : "", c.operator_name ? c.operator_name : "",
		         c.software_version ? c.software_version : "");
		snprintf(calt, sizeof(calt), "%s/%s v%d (#%lld)", c.kind, c.name, c.version, c.id);
		char src[80];
		snprintf(src, sizeof(src), "calibration record #%lld", c.id);
		mg_plot_meta meta = {title, sub, NULL, NULL, calt, src};
		e = mg_plot_calibration_png(cv.c, cv.n, &meta, o, path);
		rp_cal_clear(&cv);
	}
	json_decref(p);
	mg_calibration_clear(&c);
	return e;
}

int mg_report_plot_qc_png(mg_store *st, const char *batch_id, const char *quantity, const char *target,
                          const mg_qc_options *qo, const mg_plot_opts *o, const char *path)
{
	if (!st || !path)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_plot_qc_png: bad arguments");
	mg_qc_status *s = NULL;
	int e = mg_qc_status_get(st, batch_id, qo, &s);
	if (e != MG_OK)
		return e;
	rp_ctl *c = calloc(s->nseries ? s->nseries : 1, sizeof(*c));
	mg_plot_control *pc = calloc(s->nseries ? s->nseries : 1, sizeof(*pc));
	size_t n = 0;
	if (!c || !pc)
		e = mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	for (size_t i = 0; e == MG_OK && i < s->nseries; i++) {
		const mg_qc_series *x = &s->series[i];
		if ((quantity && strcmp(quantity, x->quantity) != 0) || (target && strcmp(target, x->target) != 0))
			continue;
		if ((e = rp_ctl_from_series(x, &c[n])) == MG_OK) {
			pc[n] = c[n].c;
			n++;
		}
	}
	if (e == MG_OK && n == 0)
		e = mg_fail(MG_ERR_NOT_FOUND, RP_DOM, "batch %s has no QC series%s%s%s%s", batch_id,
		            quantity || target ? " matching " : "", quantity ? quantity : "", quantity && target ? " " : "",
		            target ? target : "");
	if (e == MG_OK) {
		char title[160], sub[300];
		snprintf(title, sizeof(title), "QC control charts \xE2\x80\x94 batch %s", batch_id);
		snprintf(sub, sizeof(sub), "QC state: %s \xC2\xB7 %zu violation(s), %zu warning(s) \xC2\xB7 %s",
		         mg_qc_state_name(s->state), s->n_violations, s->n_warnings,
		         s->released ? (s->override_by ? "released with an override" : "released") : "not released");
		char src[200];
		snprintf(src, sizeof(src), "the store: QC values of lot %s and its baseline", batch_id);
		mg_plot_meta meta = {title, sub, NULL, batch_id, NULL, src};
		e = mg_plot_control_png(pc, n, &meta, o, path);
	}
	for (size_t i = 0; c && i < n; i++)
		rp_ctl_clear(&c[i]);
	free(c);
	free(pc);
	mg_qc_status_free(s);
	return e;
}

int mg_report_plot_batch_png(mg_store *st, const char *batch_id, const mg_plot_opts *o, const char *path)
{
	if (!st || !path)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_plot_batch_png: bad arguments");
	rp_batch b;
	int e = rp_batch_load(st, batch_id, NULL, &b);
	if (e != MG_OK)
		return e;
	rp_batch_point *pts = NULL;
	size_t n = 0;
	e = rp_batch_points(&b, &pts, &n);
	pl_fig f;
	if (e == MG_OK)
		e = pl_fig_canvas(&f, o, 0);
	if (e == MG_OK) {
		char title[160], sub[300];
		snprintf(title, sizeof(title), "Batch %s \xE2\x80\x94 composition by sample", batch_id);
		snprintf(sub, sizeof(sub), "%zu sample(s) \xC2\xB7 QC %s \xC2\xB7 %s", b.nsamples,
		         mg_qc_state_name(b.qc->state),
		         b.qc->released ? (b.qc->override_by ? "released with an override" : "released") : "not released");
		char src[200];
		snprintf(src, sizeof(src), "the store: the latest result of every measurement of lot %s", batch_id);
		mg_plot_meta meta = {title, sub, NULL, batch_id, NULL, src};
		pl_fig_header(&f, &meta);
		e = rp_fig_batch(&f, pts, n);
		if (e == MG_OK)
			e = pl_fig_write_png(&f, "batch-composition", &meta, path);
		pl_fig_end(&f);
	}
	free(pts);
	rp_batch_clear(&b);
	return e;
}
