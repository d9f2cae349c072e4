/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reports as JSON: the same content as the PDFs and the CSV (docs/reports.md),
 * and the QC status (docs/commands/qc.md). Unknown numbers are null. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/version.h"
#include "report_internal.h"

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *rules_array(unsigned flags)
{
	json_t *a = json_array();
	for (unsigned bit = 1; bit <= MG_WG_10_X; bit <<= 1)
		if (flags & bit)
			json_array_append_new(a, json_string(mg_wg_rule_name(bit)));
	return a;
}

json_t *rp_qc_status_json(const mg_qc_status *s)
{
	json_t *series = json_array();
	for (size_t i = 0; i < s->nseries; i++) {
		const mg_qc_series *x = &s->series[i];
		json_t *pts = json_array();
		for (size_t k = 0; k < x->npoints; k++) {
			const mg_qc_point *p = &x->points[k];
			json_array_append_new(
				pts, json_pack("{s:I,s:o,s:o,s:o,s:b,s:b,s:o,s:o,s:o,s:I}", "index", (json_int_t)(k + 1), "value",
			                       jreal(p->value), "z", jreal(p->z), "rules", rules_array(p->flags), "in_batch",
			                       p->in_batch, "baseline", p->baseline, "batch", jstr(p->batch_id), "at",
			                       jstr(p->at), "measurement_id",
			                       p->measurement_id > 0 ? json_integer(p->measurement_id) : json_null(), "n",
			                       (json_int_t)p->n));
		}
		json_t *lim = x->has_limits
		                      ? json_pack("{s:f,s:f,s:I,s:f,s:f,s:f,s:f}", "mean", x->mean, "sd", x->sd, "n",
		                                  (json_int_t)x->n_baseline, "lower_3s", x->mean - 3 * x->sd, "lower_2s",
		                                  x->mean - 2 * x->sd, "upper_2s", x->mean + 2 * x->sd, "upper_3s",
		                                  x->mean + 3 * x->sd)
		                      : json_null();
		json_array_append_new(series,
		                      json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:I,s:o,s:I,s:I,s:o}", "quantity", x->quantity,
		                                "target", x->target, "instrument", x->instrument, "unit", x->unit, "label",
		                                x->label, "state", mg_qc_state_name(x->state), "limits", lim, "n_baseline",
		                                (json_int_t)x->n_baseline, "batch_rules", rules_array(x->batch_flags),
		                                "batch_violations", (json_int_t)x->n_reject, "batch_warnings",
		                                (json_int_t)x->n_warn, "points", pts));
	}
	json_t *checks = json_array();
	for (size_t i = 0; i < s->nchecks; i++) {
		const mg_qc_check *c = &s->checks[i];
		json_array_append_new(checks, json_pack("{s:s,s:s,s:o,s:I,s:b}", "name", c->name, "outcome", c->outcome,
		                                        "detail", jstr(c->detail), "measurement_id",
		                                        (json_int_t)c->measurement_id, "failed", c->failed));
	}
	json_t *notes = json_array();
	for (size_t i = 0; i < s->nnotes; i++)
		json_array_append_new(notes, json_string(s->notes[i]));
	json_t *rel = json_null();
	if (s->released) {
		json_t *ov = s->override_by ? json_pack("{s:s,s:o}", "by", s->override_by, "reason", jstr(s->override_reason))
		                            : json_null();
		rel = json_pack("{s:o,s:o,s:o,s:o}", "by", jstr(s->released_by), "at", jstr(s->released_at), "qc_state",
		                jstr(s->release_state), "override", ov);
	}
	return json_pack("{s:s,s:s,s:I,s:I,s:b,s:b,s:o,s:o,s:o,s:o,s:{s:I,s:I}}", "batch", s->batch_id, "state",
	                 mg_qc_state_name(s->state), "violations", (json_int_t)s->n_violations, "warnings",
	                 (json_int_t)s->n_warnings, "releasable", s->n_violations == 0 && !s->released, "released",
	                 s->released, "release", rel, "series", series, "checks", checks, "notes", notes, "watermark",
	                 "qc_value_id", (json_int_t)s->watermark.qc_value_id, "result_id",
	                 (json_int_t)s->watermark.result_id);
}

int mg_qc_status_json(const mg_qc_status *s, char **out)
{
	if (!s || !out)
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "mg_qc_status_json: bad arguments");
	json_t *j = rp_qc_status_json(s);
	*out = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return *out ? MG_OK : mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
}

json_t *rp_result_json(mg_store *st, const rp_result *r)
{
	(void)st;
	const mg_measurement *m = &r->m;
	json_t *meas = json_pack(
		"{s:I,s:o,s:o,s:i,s:o,s:o,s:o,s:o,s:o,s:{s:o,s:o,s:o},s:o,s:o}", "id", (json_int_t)m->id, "uuid",
		jstr(m->uuid), "kind", jstr(m->kind), "replicate", m->replicate, "status", jstr(m->status), "started_at",
		jstr(m->started_at), "live_time_s", jreal(m->live_time_s), "operator", jstr(m->operator_name), "notes",
		jstr(m->notes), "instrument", "model", jstr(m->instrument_model), "serial", jstr(m->instrument_serial),
		"firmware", jstr(m->instrument_firmware), "file", jstr(m->file), "sha256", jstr(m->sha256));
	json_t *res = r->has_result ? json_pack("{s:I,s:i,s:o,s:o,s:o}", "id", (json_int_t)r->r.id, "version",
	                                        r->r.version, "created_at", jstr(r->r.created_at), "software_version",
	                                        jstr(r->r.software_version), "calibration_id",
	                                        r->r.calibration_id > 0 ? json_integer(r->r.calibration_id) : json_null())
	                            : json_null();
	json_t *cal = json_array();
	for (size_t i = 0; i < r->ncal; i++)
		json_array_append_new(cal, json_pack("{s:o,s:s}", "id", r->cal[i].id > 0 ? json_integer(r->cal[i].id) : json_null(),
		                                     "text", r->cal[i].text));
	json_t *comp = json_array();
	for (size_t i = 0; i < r->ncomp; i++) {
		const rp_comp *c = &r->comp[i];
		json_array_append_new(comp, json_pack("{s:s,s:o,s:o,s:o,s:o,s:b,s:o}", "element", c->element, "wt_pct",
		                                      jreal(c->wt), "sigma", jreal(c->sigma), "u_expanded_k2",
		                                      jreal(isfinite(c->sigma) ? 2 * c->sigma : NAN), "lod_wt_pct",
		                                      jreal(c->lod), "below_lod", isfinite(c->lod) && c->wt < c->lod,
		                                      "flags", jstr(c->flags)));
	}
	json_t *fam = json_array();
	for (size_t i = 0; i < r->nfam; i++) {
		const rp_family *f = &r->fam[i];
		json_array_append_new(fam, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o}", "element", f->element, "family", f->family,
		                                     "area", jreal(f->area), "sigma", jreal(f->sigma), "cps", jreal(f->cps),
		                                     "status", jstr(f->status)));
	}
	json_t *flags = json_array();
	for (size_t i = 0; i < r->nflags; i++)
		json_array_append_new(flags, json_string(r->flags[i]));
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:{s:o,s:o,s:o,s:o},s:o,s:o,s:o}", "measurement", meas, "result", res,
	                 "method", jstr(r->method), "calibrations", cal, "composition", comp, "families", fam, "totals",
	                 "tree", jreal(r->tree), "nd_pr", jreal(r->ndpr), "dy_tb", jreal(r->dytb), "total",
	                 jreal(r->total), "grade", jstr(r->grade), "boron", jstr(r->boron), "flags", flags);
}

static json_t *header(const mg_report_opts *o, const char *type)
{
	char now[40], sw[64];
	rp_now(now, sizeof(now));
	snprintf(sw, sizeof(sw), "magassay %s", MAGASSAY_VERSION_STRING);
	return json_pack("{s:s,s:s,s:s,s:s}", "type", type, "generated_at",
	                 o && o->generated_at ? o->generated_at : now, "software", sw, "laboratory",
	                 o && o->laboratory ? o->laboratory : "magassay laboratory");
}

json_t *rp_sample_json(mg_store *st, const rp_sample *s, const mg_qc_status *qc, const mg_report_opts *o)
{
	json_t *j = header(o, "sample_report");
	json_t *results = json_array();
	for (size_t i = 0; i < s->nres; i++)
		json_array_append_new(results, rp_result_json(st, &s->res[i]));
	json_object_set_new(j, "sample",
	                    json_pack("{s:s,s:s,s:o,s:o}", "id", s->s.id, "batch", s->s.batch_id, "description",
	                              jstr(s->s.description), "created_at", jstr(s->s.created_at)));
	json_object_set_new(j, "qc", qc ? rp_qc_status_json(qc) : json_null());
	json_object_set_new(j, "results", results);
	return j;
}

static int dump(json_t *j, char **out)
{
	*out = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return *out ? MG_OK : mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
}

int mg_report_sample_json(mg_store *st, const char *sample_id, const mg_report_opts *o, char **out)
{
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_sample_json: bad arguments");
	*out = NULL;
	rp_sample s;
	int e = rp_sample_load(st, sample_id, &s);
	if (e != MG_OK)
		return e;
	mg_qc_status *qc = NULL;
	e = mg_qc_status_get(st, s.s.batch_id, o ? o->qc : NULL, &qc);
	if (e == MG_OK) {
		json_t *j = rp_sample_json(st, &s, qc, o);
		json_t *b = json_object_get(j, "sample");
		mg_batch bb;
		if (mg_store_batch_get(st, s.s.batch_id, &bb) == MG_OK) {
			json_object_set_new(j, "batch",
			                    json_pack("{s:s,s:o,s:o,s:o,s:o}", "id", bb.id, "operator", jstr(bb.operator_name),
			                              "notes", jstr(bb.notes), "status", jstr(bb.status), "created_at",
			                              jstr(bb.created_at)));
			mg_batch_clear(&bb);
		}
		(void)b;
		e = dump(j, out);
	}
	mg_qc_status_free(qc);
	rp_sample_clear(&s);
	return e;
}

int mg_report_batch_json(mg_store *st, const char *batch_id, const mg_report_opts *o, char **out)
{
	if (!st || !out)
		return mg_fail(MG_ERR_ARG, RP_DOM, "mg_report_batch_json: bad arguments");
	*out = NULL;
	rp_batch b;
	int e = rp_batch_load(st, batch_id, o ? o->qc : NULL, &b);
	if (e != MG_OK)
		return e;
	json_t *j = header(o, "batch_report");
	json_object_set_new(j, "batch",
	                    json_pack("{s:s,s:o,s:o,s:o,s:o,s:I,s:I}", "id", b.b.id, "operator", jstr(b.b.operator_name),
	                              "notes", jstr(b.b.notes), "status", jstr(b.b.status), "created_at",
	                              jstr(b.b.created_at), "samples", (json_int_t)b.b.n_samples, "measurements",
	                              (json_int_t)b.b.n_measurements));
	json_object_set_new(j, "qc", rp_qc_status_json(b.qc));
	json_t *samples = json_array();
	for (size_t i = 0; i < b.nsamples; i++) {
		json_t *res = json_array();
		for (size_t r = 0; r < b.samples[i].nres; r++)
			json_array_append_new(res, rp_result_json(st, &b.samples[i].res[r]));
		json_array_append_new(samples, json_pack("{s:s,s:o,s:o}", "id", b.samples[i].s.id, "description",
		                                         jstr(b.samples[i].s.description), "results", res));
	}
	json_object_set_new(j, "samples", samples);
	/* XRF-ICP pairs of this batch */
	rp_pair *p = NULL;
	size_t np = 0;
	json_t *pairs = json_array();
	if (rp_batch_pairs(st, batch_id, &p, &np) == MG_OK) {
		for (size_t i = 0; i < np; i++)
			json_array_append_new(pairs, json_pack("{s:s,s:s,s:f,s:f,s:o}", "sample", p[i].sample, "element",
			                                       p[i].element, "xrf_wt_pct", p[i].xrf, "icp_wt_pct", p[i].icp,
			                                       "bias_pct",
			                                       jreal(p[i].icp > 0 ? 100 * (p[i].xrf - p[i].icp) / p[i].icp : NAN)));
		rp_pairs_free(p, np);
	}
	json_object_set_new(j, "xrf_icp", pairs);
	rp_batch_clear(&b);
	return dump(j, out);
}
