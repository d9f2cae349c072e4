/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Releasing a batch: judged first; refused while a rejection rule fires on a
 * point of the batch or an ICP run check of the batch failed, unless an
 * override with who and why is recorded (with the violations it accepts).
 * The release is written in one transaction with its override, and only if
 * no QC data arrived since the judgement (the watermark). Also: deriving
 * and recording the QC values of a check-standard measurement. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

static int blank(const char *s)
{
	if (!s)
		return 1;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/* The violations a release overrides, as a JSON array. */
static json_t *violations_json(const mg_qc_status *s)
{
	json_t *a = json_array();
	for (size_t i = 0; i < s->nseries; i++) {
		const mg_qc_series *x = &s->series[i];
		if (!x->n_reject)
			continue;
		json_t *pts = json_array();
		for (size_t k = 0; k < x->npoints; k++) {
			const mg_qc_point *p = &x->points[k];
			if (!p->in_batch || !(p->flags & MG_WG_REJECT))
				continue;
			char r[64];
			json_array_append_new(pts, json_pack("{s:I,s:f,s:s,s:o}", "index", (json_int_t)(k + 1), "value",
			                                     p->value, "rules",
			                                     mg_wg_rules_format(p->flags & MG_WG_REJECT, r, sizeof(r)), "at",
			                                     p->at ? json_string(p->at) : json_null()));
		}
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:o}", "kind", "westgard", "quantity", x->quantity,
		                                   "target", x->target, "instrument", x->instrument, "points", pts));
	}
	for (size_t i = 0; i < s->nchecks; i++)
		if (s->checks[i].failed)
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:I}", "kind", "icp-check", "name", s->checks[i].name,
			                                   "outcome", s->checks[i].outcome, "measurement",
			                                   (json_int_t)s->checks[i].measurement_id));
	return a;
}

int mg_qc_release(mg_store *st, const char *batch_id, const char *released_by, const char *override_by,
                  const char *reason, const mg_qc_options *opt, mg_qc_status **status_out)
{
	if (status_out)
		*status_out = NULL;
	if (!st)
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "mg_qc_release: no store");
	if (override_by && blank(override_by))
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "an override needs the name of who accepts it");
	if (override_by && blank(reason))
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "an override needs a reason: why is batch %s released despite its QC?",
		               batch_id ? batch_id : "?");
	if (!override_by && reason && !blank(reason))
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "a reason was given without the name of who overrides");
	mg_qc_status *s = NULL;
	int e = mg_qc_status_get(st, batch_id, opt, &s);
	if (e != MG_OK)
		return e;
	if (s->released) {
		e = mg_fail(MG_ERR_EXISTS, RP_QC_DOM, "batch %s was released by %s at %s", batch_id, s->released_by,
		            s->released_at);
		goto out;
	}
	if (s->n_violations > 0 && !override_by) {
		char first[600] = "";
		for (size_t i = 0; i < s->nnotes && !first[0]; i++)
			if (strstr(s->notes[i], " on ") || strstr(s->notes[i], "failed"))
				snprintf(first, sizeof(first), "%s", s->notes[i]);
		mg_fail(MG_ERR_ARG, RP_QC_DOM,
		        "batch %s cannot be released: %zu QC violation(s)%s%s; release it with an override "
		        "(who and why) if it must go",
		        batch_id, s->n_violations, first[0] ? ": " : "", first);
		e = (int)(s->n_violations > 1000000 ? 1000000 : s->n_violations);
		goto out;
	}
	int use_override = override_by && s->n_violations > 0;
	if (override_by && !use_override)
		mg_info(RP_QC_DOM, "batch %s: no violation to override; released on its QC", batch_id);
	json_t *viol = use_override ? violations_json(s) : NULL;
	char *vtext = viol ? json_dumps(viol, JSON_COMPACT) : NULL;
	json_t *det = json_pack("{s:s,s:I,s:I,s:{s:I,s:I}}", "qc_state", mg_qc_state_name(s->state), "violations",
	                        (json_int_t)s->n_violations, "warnings", (json_int_t)s->n_warnings, "watermark",
	                        "qc_value_id", (json_int_t)s->watermark.qc_value_id, "result_id",
	                        (json_int_t)s->watermark.result_id);
	char *dtext = det ? json_dumps(det, JSON_COMPACT) : NULL;
	json_decref(viol);
	json_decref(det);
	if ((use_override && !vtext) || !dtext)
		e = mg_fail(MG_ERR_NOMEM, RP_QC_DOM, "out of memory");
	else
		e = mg_store_qc_release_add(st, batch_id, released_by, use_override ? override_by : NULL,
		                            use_override ? reason : NULL, vtext, dtext, &s->watermark, NULL);
	free(vtext);
	free(dtext);
	if (e == MG_OK) {
		/* reflect the release in the status handed back */
		mg_qc_release_record rel;
		if (mg_store_qc_release_get(st, batch_id, &rel) == MG_OK) {
			s->released = 1;
			s->released_by = rel.released_by;
			s->released_at = rel.at;
			s->release_state = rel.qc_state;
			s->override_by = rel.override_by;
			s->override_reason = rel.reason;
			rel.released_by = rel.at = rel.qc_state = rel.override_by = rel.reason = NULL;
			mg_qc_release_record_clear(&rel);
		}
	}
out:
	if (status_out)
		*status_out = s;
	else
		mg_qc_status_free(s);
	return e;
}

/* ---- check standards ---------------------------------------------------------------------- */

/* The channel where E(c) = offset + gain·c + quad·c² equals e. */
static double channel_of(double off, double gain, double quad, double e)
{
	if (fabs(quad) < 1e-15)
		return (e - off) / gain;
	double d = gain * gain - 4 * quad * (off - e);
	if (d < 0)
		return NAN;
	return (-gain + sqrt(d)) / (2 * quad);
}

int mg_qc_check_standard_values(const char *payload_json, const char *element, double line_kev,
                                const double ref_cal[3], mg_qc_check_values *out)
{
	if (!payload_json || !element || !out || !(line_kev > 0))
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "mg_qc_check_standard_values: bad arguments");
	out->peak_kev = out->fwhm_ev = out->cps = NAN;
	json_error_t err;
	json_t *p = json_loads(payload_json, JSON_DECODE_ANY, &err);
	if (!json_is_object(p)) {
		json_decref(p);
		return mg_fail(MG_ERR_FORMAT, RP_QC_DOM, "result payload: not a JSON object (%s, line %d)", err.text,
		               err.line);
	}
	json_t *cal = json_object_get(p, "calibration");
	double off = rp_jnum(cal, (const char *const[]){"offset_kev", NULL});
	double gain = rp_jnum(cal, (const char *const[]){"gain_kev", NULL});
	double quad = rp_jnum(cal, (const char *const[]){"quad_kev", NULL});
	double noise = rp_jnum(cal, (const char *const[]){"noise_kev", NULL});
	double fano = rp_jnum(cal, (const char *const[]){"fano", NULL});
	if (!isfinite(quad))
		quad = 0;
	if (isfinite(noise) && isfinite(fano))
		out->fwhm_ev = 1000 * sqrt(noise * noise + 2.3548 * 2.3548 * fano * 0.00385 * line_kev);
	if (ref_cal && isfinite(off) && isfinite(gain) && gain > 0) {
		double c = channel_of(off, gain, quad, line_kev);
		if (isfinite(c))
			out->peak_kev = ref_cal[0] + ref_cal[1] * c + ref_cal[2] * c * c;
	}
	json_t *fam = json_object_get(p, "families");
	size_t i;
	json_t *x;
	/* The K (or Ka) family of the element; else any family of it. */
	double any = NAN;
	json_array_foreach(fam, i, x)
	{
		const char *el = rp_jstr(x, (const char *const[]){"element", NULL});
		const char *fa = rp_jstr(x, (const char *const[]){"family", NULL});
		double cps = rp_jnum(x, (const char *const[]){"cps", NULL});
		if (!el || strcmp(el, element) != 0 || !isfinite(cps))
			continue;
		if (fa && (strcmp(fa, "K") == 0 || strcmp(fa, "Ka") == 0)) {
			out->cps = cps;
			break;
		}
		if (!isfinite(any))
			any = cps;
	}
	if (!isfinite(out->cps))
		out->cps = any;
	json_t *q = json_object_get(p, "qc");
	if (json_is_object(q)) {
		double v;
		if (isfinite(v = rp_jnum(q, (const char *const[]){"peak_kev", "peak_position_kev", NULL})))
			out->peak_kev = v;
		if (isfinite(v = rp_jnum(q, (const char *const[]){"fwhm_ev", NULL})))
			out->fwhm_ev = v;
		if (isfinite(v = rp_jnum(q, (const char *const[]){"cps", "intensity_cps", NULL})))
			out->cps = v;
	}
	json_decref(p);
	return MG_OK;
}

int mg_qc_record_check_standard(mg_store *st, long long measurement_id, const char *standard,
                                const char *element, const char *line, double line_kev,
                                const double ref_cal[3], const char *operator_name)
{
	if (!st || !element || !line)
		return mg_fail(MG_ERR_ARG, RP_QC_DOM, "mg_qc_record_check_standard: bad arguments");
	mg_measurement m;
	mg_result r;
	int e = mg_store_measurement_get(st, measurement_id, &m);
	if (e != MG_OK)
		return e;
	if ((e = mg_store_result_get(st, measurement_id, 0, &r)) != MG_OK) {
		mg_measurement_clear(&m);
		return e;
	}
	mg_qc_check_values v;
	e = mg_qc_check_standard_values(r.payload_json, element, line_kev, ref_cal, &v);
	int n = 0;
	if (e == MG_OK) {
		char target[64];
		snprintf(target, sizeof(target), "%s %s", element, line);
		const char *inst = m.instrument_serial ? m.instrument_serial : m.instrument_model;
		struct {
			const char *q, *unit;
			double v;
		} q[] = {{MG_QC_PEAK_POSITION, "keV", v.peak_kev}, {MG_QC_FWHM, "eV", v.fwhm_ev},
		         {MG_QC_INTENSITY, "cps", v.cps}};
		for (size_t i = 0; i < MG_ARRAY_SIZE(q) && e == MG_OK; i++) {
			if (!isfinite(q[i].v))
				continue;
			mg_new_qc_value nv = {.quantity = q[i].q,
			                      .target = target,
			                      .standard = standard,
			                      .instrument = inst,
			                      .value = q[i].v,
			                      .unit = q[i].unit,
			                      .batch_id = m.batch_id,
			                      .measurement_id = m.id,
			                      .measured_at = m.started_at,
			                      .operator_name = operator_name ? operator_name : m.operator_name};
			if ((e = mg_store_qc_value_add(st, &nv, NULL)) == MG_OK)
				n++;
		}
	}
	mg_result_clear(&r);
	mg_measurement_clear(&m);
	return e < 0 ? e : n;
}
