/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An ICP-OES run as JSON (icp_run_internal.h): the raw readings archived per
 * measurement, the settings and result payloads of the store, the
 * calibration payload and its provenance, and the run report (`magassay icp
 * run --json`), from the run and its evaluation. docs/icp.md describes them.
 * NAN becomes null; every text is built with jansson. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "icp_run_internal.h"
#include "internal.h"
#include "magassay/version.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10))

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* A string, or null when empty; text that is not UTF-8 (a label or a path in
 * another encoding) has its non-ASCII bytes replaced by '?' rather than
 * making the whole document fail. */
static json_t *jstr(const char *s)
{
	if (!s || !*s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	size_t n = strlen(s);
	char *t = malloc(n + 1);
	if (!t)
		return json_null();
	for (size_t i = 0; i <= n; i++)
		t[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	j = json_string(t);
	free(t);
	return j ? j : json_null();
}

static char *dump(json_t *o)
{
	if (!o)
		return NULL;
	char *s = json_dumps(o, DUMP_FLAGS);
	json_decref(o);
	return s;
}

static json_t *jflags(unsigned flags)
{
	json_t *a = json_array();
	for (unsigned b = 0; b < 32; b++) {
		const char *name = mg_icp_flag_name(1u << b);
		if ((flags & (1u << b)) && name)
			json_array_append_new(a, json_string(name));
	}
	return a;
}

static const char *role_name(mg_icp_line_role role)
{
	return role == MG_ICP_ROLE_INTERNAL_STD ? "internal_standard" : role == MG_ICP_ROLE_REPORT ? "report" : "alternative";
}

/* ---- raw readings -------------------------------------------------------- */

static json_t *item_head(const mg_icp_run *r, size_t i)
{
	const mg_icp_item *it = &r->seq->items[i];
	return json_pack("{s:s,s:i,s:s,s:s,s:o,s:o,s:I}", "label", it->label, "position", it->position, "type",
	                 mg_icp_item_type_name(it->type), "batch", r->seq->batch, "solution", jstr(it->solution), "of",
	                 jstr(it->of), "sequence_line", (json_int_t)it->line);
}

char *icp_json_raw_measurement(const mg_icp_run *r, size_t i, const mg_icp_measurement *m)
{
	json_t *o = item_head(r, i);
	if (!o)
		return NULL;
	json_object_set_new(o, "format", json_string("magassay-icp-measurement"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "instrument_label", jstr(m->sample_label));
	json_object_set_new(o, "instrument_position", json_integer(m->position));
	json_object_set_new(o, "start_time", jstr(m->start_time));
	json_object_set_new(o, "plasma", json_pack("{s:b,s:o,s:o,s:o,s:o}", "lit", m->plasma.lit, "rf_power_w",
	                                           jreal(m->plasma.rf_power_w), "nebulizer_flow_lmin",
	                                           jreal(m->plasma.nebulizer_flow_lmin), "plasma_flow_lmin",
	                                           jreal(m->plasma.plasma_flow_lmin), "aux_flow_lmin",
	                                           jreal(m->plasma.aux_flow_lmin)));
	json_t *lines = json_array();
	for (size_t l = 0; l < m->nlines && l < MG_ICP_MAX_LINES; l++)
		json_array_append_new(lines, json_pack("{s:o,s:f,s:o,s:b}", "element", jstr(m->line[l].element),
		                                       "wavelength_nm", m->line[l].wavelength_nm, "label",
		                                       jstr(m->line[l].label), "internal_standard", m->line[l].is_internal_std));
	json_object_set_new(o, "lines", lines);
	json_t *reps = json_array();
	for (size_t k = 0; k < m->nreplicates && k < MG_ICP_MAX_REPLICATES; k++) {
		const mg_icp_reading *rd = &m->replicate[k];
		json_t *wins = json_array();
		for (size_t l = 0; l < m->nlines && l < MG_ICP_MAX_LINES; l++) {
			const mg_icp_window *w = &rd->window[l];
			size_t np = w->npix > MG_ICP_MAX_PIXELS ? MG_ICP_MAX_PIXELS : w->npix;
			json_t *win = json_object(), *in = json_array();
			/* wavelengths once per line, again only where a replicate differs */
			int same = k > 0 && m->replicate[0].window[l].npix == w->npix &&
			           memcmp(m->replicate[0].window[l].wavelength_nm, w->wavelength_nm, np * sizeof(double)) == 0;
			if (!same) {
				json_t *wl = json_array();
				for (size_t p = 0; p < np; p++)
					json_array_append_new(wl, json_real(w->wavelength_nm[p]));
				json_object_set_new(win, "wavelength_nm", wl);
			}
			for (size_t p = 0; p < np; p++)
				json_array_append_new(in, jreal(w->intensity[p]));
			json_object_set_new(win, "intensity", in);
			json_array_append_new(wins, win);
		}
		json_array_append_new(reps, json_pack("{s:o,s:o}", "integration_s", jreal(rd->integration_s), "windows", wins));
	}
	json_object_set_new(o, "replicates", reps);
	return dump(o);
}

char *icp_json_raw_csv(const mg_icp_run *r, size_t i)
{
	json_t *o = item_head(r, i);
	if (!o)
		return NULL;
	json_object_set_new(o, "format", json_string("magassay-icp-import"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "csv", jstr(r->csv_path));
	json_t *rows = json_array();
	const size_t *idx;
	size_t n = mg_icp_eval_csv_rows(r->ev, i, &idx);
	for (size_t k = 0; k < n; k++) {
		const mg_icp_csv_row *row = &r->csv->rows[idx[k]];
		json_array_append_new(rows, json_pack("{s:I,s:s,s:s,s:o,s:i,s:o,s:o}", "csv_line", (json_int_t)row->line,
		                                      "label", row->label, "element", row->element, "wavelength_nm",
		                                      jreal(row->wavelength_nm), "replicate", row->replicate, "intensity",
		                                      jreal(row->intensity), "conc_mg_l", jreal(row->conc)));
	}
	json_object_set_new(o, "rows", rows);
	return dump(o);
}

char *icp_json_settings(const mg_icp_run *r, size_t i)
{
	const mg_icp_item *it = &r->seq->items[i];
	json_t *lines = json_array();
	for (size_t l = 0; l < mg_icp_eval_nlines(r->ev); l++)
		json_array_append_new(lines, json_string(mg_icp_eval_line(r->ev, l)->label));
	return dump(json_pack("{s:s,s:s,s:f,s:i,s:i,s:s,s:o,s:I,s:o,s:o}", "technique", "ICP-OES", "method", r->m->name,
	                      "integration_s", r->m->integration_s, "replicates", r->m->replicates, "position",
	                      it->position, "type", mg_icp_item_type_name(it->type), "solution", jstr(it->solution),
	                      "sequence_line", (json_int_t)it->line, "lines", lines, "internal_standard",
	                      r->m->has_is ? json_string(r->m->is_line.label) : json_null()));
}

/* ---- values, checks --------------------------------------------------------- */

static json_t *value_json(const mg_icp_run *r, size_t l, const mg_icp_value *v)
{
	int a = mg_icp_eval_line_analyte(r->ev, l);
	const mg_icp_line *line = mg_icp_eval_line(r->ev, l);
	const mg_icp_curve *cv = mg_icp_eval_curve(r->ev, l);
	json_t *o = json_object();
	json_object_set_new(o, "line", json_string(line->label));
	json_object_set_new(o, "element", json_string(line->element));
	json_object_set_new(o, "wavelength_nm", json_real(line->wavelength_nm));
	json_object_set_new(o, "role", json_string(role_name(mg_icp_eval_line_role(r->ev, l))));
	json_object_set_new(o, "net", jreal(v->net));
	json_object_set_new(o, "net_rsd_pct", jreal(v->net_rsd_pct));
	if (a >= 0) {
		json_object_set_new(o, "conc_mg_l", jreal(v->conc));
		json_object_set_new(o, "u_conc_mg_l", jreal(v->u_conc));
		json_object_set_new(o, "sd_mg_l", jreal(v->sd));
		json_object_set_new(o, "rsd_pct", jreal(v->rsd_pct));
		if (isfinite(v->w_pct)) {
			json_object_set_new(o, "w_pct", jreal(v->w_pct));
			json_object_set_new(o, "u_w_pct", jreal(v->u_w_pct));
			json_object_set_new(o, "w_mg_kg", jreal(v->w_pct * 1e4));
		}
		if (cv) {
			json_object_set_new(o, "lod_mg_l", jreal(cv->lod));
			json_object_set_new(o, "loq_mg_l", jreal(cv->loq));
		}
	}
	json_object_set_new(o, "flags", jflags(v->flags));
	return o;
}

static json_t *check_json(const mg_icp_run *r, const mg_icp_check *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", json_string(mg_icp_check_name(c->type)));
	json_object_set_new(o, "label", json_string(c->label));
	json_object_set_new(o, "item", json_integer((json_int_t)c->item));
	json_object_set_new(o, "position", json_integer(c->position));
	if (c->item < r->seq->nitems)
		json_object_set_new(o, "sequence_line", json_integer(r->seq->items[c->item].line));
	json_object_set_new(o, "element", jstr(c->element));
	json_object_set_new(o, "line", jstr(c->line));
	json_object_set_new(o, "value", jreal(c->value));
	json_object_set_new(o, "unit", json_string(c->unit));
	json_object_set_new(o, "lo", jreal(c->lo));
	json_object_set_new(o, "hi", jreal(c->hi));
	json_object_set_new(o, "outcome", json_string(mg_icp_outcome_name(c->outcome)));
	json_object_set_new(o, "measured", jreal(c->measured));
	json_object_set_new(o, "expected", jreal(c->expected));
	json_object_set_new(o, "note", jstr(c->note));
	return o;
}

static json_t *item_json(const mg_icp_run *r, size_t i, int with_checks)
{
	const mg_icp_item *it = &r->seq->items[i];
	const mg_icp_item_result *res = mg_icp_eval_result(r->ev, i);
	json_t *o = item_head(r, i);
	json_object_set_new(o, "item", json_integer((json_int_t)i));
	json_object_set_new(o, "measured", json_boolean(res->measured));
	if (res->status < 0)
		json_object_set_new(o, "error", json_string(mg_strerror_name(res->status)));
	if (!res->measured)
		return o;
	json_object_set_new(o, "replicates", json_integer((json_int_t)res->nreplicates));
	json_object_set_new(o, "start_time", jstr(res->start_time));
	if (mg_icp_eval_internal_standard(r->ev, NULL) >= 0)
		json_object_set_new(o, "is_recovery_pct", jreal(res->is_recovery_pct));
	if (mg_icp_item_is_sample(it->type)) {
		mg_icp_digest d;
		mg_icp_item_digest(r->seq, i, r->m, &d);
		json_object_set_new(o, "digest", json_pack("{s:o,s:o,s:o}", "mass_g", jreal(d.mass_g), "volume_ml",
		                                            jreal(d.volume_ml), "dilution", jreal(d.dilution)));
	}
	if (isfinite(res->total_pct))
		json_object_set_new(o, "total_pct", json_real(res->total_pct));
	json_t *vals = json_array();
	unsigned all = 0;
	for (size_t l = 0; l < mg_icp_eval_nlines(r->ev); l++) {
		json_array_append_new(vals, value_json(r, l, &res->line[l]));
		all |= res->line[l].flags;
	}
	json_object_set_new(o, "values", vals);
	json_object_set_new(o, "flags", jflags(all));
	if (res->uuid[0])
		json_object_set_new(o, "measurement", json_pack("{s:s,s:I}", "uuid", res->uuid, "id",
		                                                (json_int_t)res->measurement_id));
	if (res->result_id)
		json_object_set_new(o, "result", json_pack("{s:I,s:i}", "id", (json_int_t)res->result_id, "version",
		                                           res->result_version));
	if (with_checks) {
		json_t *ch = json_array();
		for (size_t k = 0; k < mg_icp_eval_nchecks(r->ev); k++)
			if (mg_icp_eval_check(r->ev, k)->item == i)
				json_array_append_new(ch, check_json(r, mg_icp_eval_check(r->ev, k)));
		json_object_set_new(o, "checks", ch);
	}
	return o;
}

char *icp_json_result(const mg_icp_run *r, size_t i)
{
	json_t *o = item_json(r, i, 1);
	json_object_set_new(o, "kind", json_string("icp"));
	json_object_set_new(o, "method", json_string(r->m->name));
	json_object_set_new(o, "qc_profile", jstr(r->q->name));
	json_object_set_new(o, "sequence", jstr(r->seq_path));
	json_object_set_new(o, "source", jstr(r->source_text));
	json_object_set_new(o, "mode", json_string(mg_icp_eval_vendor_concentrations(r->ev) ? "vendor concentrations"
	                                                                                    : "intensities"));
	if (r->cal_id)
		json_object_set_new(o, "calibration", json_pack("{s:I,s:i,s:s}", "id", (json_int_t)r->cal_id, "version",
		                                                r->cal_version, "name", r->m->name));
	json_object_del(o, "result"); /* its own id is not known before it is written */
	return dump(o);
}

/* ---- calibration ------------------------------------------------------------- */

static const char *curve_name(mg_icp_curve_kind k)
{
	return k == MG_ICP_CURVE_WEIGHTED_1X ? "weighted-1/x" : k == MG_ICP_CURVE_WEIGHTED_1X2 ? "weighted-1/x2"
	       : k == MG_ICP_CURVE_QUADRATIC ? "quadratic" : "linear";
}

static json_t *curves_json(const mg_icp_run *r)
{
	json_t *a = json_array();
	for (size_t l = 0; l < mg_icp_eval_nlines(r->ev); l++) {
		int an = mg_icp_eval_line_analyte(r->ev, l);
		const mg_icp_line *line = mg_icp_eval_line(r->ev, l);
		const mg_icp_curve *c = mg_icp_eval_curve(r->ev, l);
		double centre, fwhm, eta;
		int shape = mg_icp_eval_shape(r->ev, l, &centre, &fwhm, &eta);
		json_t *o = json_object();
		json_object_set_new(o, "line", json_string(line->label));
		json_object_set_new(o, "element", json_string(line->element));
		json_object_set_new(o, "role", json_string(role_name(mg_icp_eval_line_role(r->ev, l))));
		if (shape)
			json_object_set_new(o, "shape", json_pack("{s:f,s:f,s:f,s:s}", "centre_nm", centre, "fwhm_nm", fwhm,
			                                           "eta", eta, "from", shape == 1 ? "fit" : "other lines"));
		if (an >= 0 && c) {
			json_object_set_new(o, "curve", json_string(curve_name(c->kind)));
			json_object_set_new(o, "coef", json_pack("[o,o,o]", jreal(c->coef[0]), jreal(c->coef[1]), jreal(c->coef[2])));
			json_t *cov = json_array();
			for (int i = 0; i < 3; i++)
				json_array_append_new(cov, json_pack("[o,o,o]", jreal(c->cov[i][0]), jreal(c->cov[i][1]),
				                                     jreal(c->cov[i][2])));
			json_object_set_new(o, "cov", cov);
			json_object_set_new(o, "r", jreal(c->r));
			json_object_set_new(o, "s_yx", jreal(c->s_yx));
			json_object_set_new(o, "dof", json_integer(c->dof));
			json_object_set_new(o, "lod_mg_l", jreal(c->lod));
			json_object_set_new(o, "loq_mg_l", jreal(c->loq));
			json_object_set_new(o, "blank_sd", jreal(c->blank_sd));
			json_t *pts = json_array();
			for (size_t k = 0; k < c->n; k++)
				json_array_append_new(pts, json_pack("{s:f,s:f,s:f,s:o,s:o}", "x", c->x[k], "y", c->y[k], "w", c->w[k],
				                                     "back_calc", jreal(c->back_calc[k]), "resid_pct",
				                                     jreal(c->resid_pct[k])));
			json_object_set_new(o, "points", pts);
		} else if (an >= 0) {
			json_object_set_new(o, "curve", json_null());
			json_object_set_new(o, "error", jstr(mg_icp_eval_curve_error(r->ev, l)));
		}
		json_array_append_new(a, o);
	}
	return a;
}

char *icp_json_calibration(const mg_icp_run *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "technique", json_string("ICP-OES"));
	json_object_set_new(o, "method", json_string(r->m->name));
	json_object_set_new(o, "units", json_string("mg/L"));
	double is_ref;
	int is_line = mg_icp_eval_internal_standard(r->ev, &is_ref);
	json_object_set_new(o, "response", json_string(is_line >= 0 && isfinite(is_ref)
	                                                    ? "net intensity × IS(cal blank) / IS"
	                                                    : "net intensity"));
	if (is_line >= 0)
		json_object_set_new(o, "internal_standard",
		                    json_pack("{s:s,s:o}", "line", mg_icp_eval_line(r->ev, (size_t)is_line)->label,
		                              "reference_net", jreal(is_ref)));
	json_object_set_new(o, "lines", curves_json(r));
	return dump(o);
}

char *icp_json_calibration_provenance(const mg_icp_run *r)
{
	json_t *std = json_array();
	/* the calibration block: the items before the first that is not a blank or a standard */
	for (size_t i = 0; i < r->seq->nitems; i++) {
		const mg_icp_item *it = &r->seq->items[i];
		if (it->type != MG_ICP_ITEM_CAL_BLANK && it->type != MG_ICP_ITEM_CAL_STD)
			break;
		const mg_icp_item_result *res = mg_icp_eval_result(r->ev, i);
		if (!res->measured)
			continue;
		json_array_append_new(std, json_pack("{s:s,s:s,s:o,s:i,s:o}", "label", it->label, "type",
		                                     mg_icp_item_type_name(it->type), "solution", jstr(it->solution),
		                                     "position", it->position, "measurement", jstr(res->uuid)));
	}
	return dump(json_pack("{s:o,s:s,s:o,s:o,s:o,s:o}", "sequence", jstr(r->seq_path), "batch", r->seq->batch,
	                      "source", jstr(r->source_text), "qc_profile", jstr(r->q->name), "instrument",
	                      json_pack("{s:o,s:o,s:o}", "model", jstr(r->model), "serial", jstr(r->serial), "firmware",
	                                jstr(r->firmware)),
	                      "standards", std));
}

/* ---- the run report --------------------------------------------------------- */

int mg_icp_run_json(const mg_icp_run *r, char **out)
{
	if (!r || !out)
		return mg_fail(MG_ERR_ARG, RUN_DOM, "no run");
	*out = NULL;
	json_t *o = json_object();
	size_t nmeas = 0;
	for (size_t i = 0; i < r->seq->nitems; i++)
		nmeas += mg_icp_eval_result(r->ev, i)->measured;
	json_object_set_new(o, "status", json_string(r->status == MG_OK && nmeas == r->seq->nitems ? "complete"
	                                             : r->status == MG_ERR_INTERRUPTED          ? "stopped"
	                                                                                        : "failed"));
	if (r->status < 0) {
		json_t *e = json_pack("{s:s,s:o}", "code", mg_strerror_name(r->status), "message", jstr(r->error));
		if (r->error_item < r->seq->nitems) {
			const mg_icp_item *it = &r->seq->items[r->error_item];
			json_object_set_new(e, "item", json_integer((json_int_t)r->error_item));
			json_object_set_new(e, "label", json_string(it->label));
			json_object_set_new(e, "position", json_integer(it->position));
			json_object_set_new(e, "sequence_line", json_integer(it->line));
		}
		json_object_set_new(o, "error", e);
	} else {
		json_object_set_new(o, "error", json_null());
	}
	json_object_set_new(o, "software", json_string("magassay " MAGASSAY_VERSION_STRING));
	json_object_set_new(o, "sequence", json_pack("{s:o,s:s,s:o,s:I,s:I}", "file", jstr(r->seq_path), "batch",
	                                             r->seq->batch, "operator", jstr(r->operator_name), "items",
	                                             (json_int_t)r->seq->nitems, "measured", (json_int_t)nmeas));
	json_object_set_new(o, "method", json_pack("{s:s,s:o,s:i,s:f}", "name", r->m->name, "internal_standard",
	                                           r->m->has_is ? json_string(r->m->is_line.label) : json_null(),
	                                           "replicates", r->m->replicates, "integration_s", r->m->integration_s));
	json_object_set_new(o, "qc_profile", jstr(r->q->name));
	json_object_set_new(o, "source", json_pack("{s:o,s:o,s:o,s:o,s:s}", "uri", jstr(r->source_text), "model",
	                                           jstr(r->model), "serial", jstr(r->serial), "firmware",
	                                           jstr(r->firmware), "mode",
	                                           mg_icp_eval_vendor_concentrations(r->ev) ? "vendor concentrations"
	                                                                                    : "intensities"));
	json_t *cal = json_object();
	double is_ref;
	int calibrated = mg_icp_eval_calibrated(r->ev);
	json_object_set_new(cal, "done", json_boolean(calibrated));
	json_object_set_new(cal, "id", r->cal_id ? json_integer(r->cal_id) : json_null());
	json_object_set_new(cal, "version", r->cal_id ? json_integer(r->cal_version) : json_null());
	if (mg_icp_eval_internal_standard(r->ev, &is_ref) >= 0)
		json_object_set_new(cal, "is_reference_net", jreal(is_ref));
	if (calibrated)
		json_object_set_new(cal, "lines", curves_json(r));
	json_object_set_new(o, "calibration", cal);
	json_t *items = json_array();
	for (size_t i = 0; i < r->seq->nitems; i++)
		json_array_append_new(items, item_json(r, i, 0));
	json_object_set_new(o, "items", items);
	json_t *checks = json_array();
	size_t nchecks = mg_icp_eval_nchecks(r->ev), np = 0, nf = 0, nn = 0;
	for (size_t k = 0; k < nchecks; k++) {
		const mg_icp_check *c = mg_icp_eval_check(r->ev, k);
		json_array_append_new(checks, check_json(r, c));
		np += c->outcome == MG_ICP_PASS;
		nf += c->outcome == MG_ICP_FAIL;
		nn += c->outcome == MG_ICP_NA;
	}
	json_object_set_new(o, "checks", checks);
	/* per check type: counts */
	json_t *bytype = json_object();
	for (int t = 0; t < MG_ICP_CHECK_COUNT_; t++) {
		size_t cp = 0, cf = 0, cn = 0;
		for (size_t k = 0; k < nchecks; k++) {
			const mg_icp_check *c = mg_icp_eval_check(r->ev, k);
			if ((int)c->type == t) {
				cp += c->outcome == MG_ICP_PASS;
				cf += c->outcome == MG_ICP_FAIL;
				cn += c->outcome == MG_ICP_NA;
			}
		}
		if (cp + cf + cn)
			json_object_set_new(bytype, mg_icp_check_name((mg_icp_check_type)t),
			                    json_pack("{s:I,s:I,s:I}", "pass", (json_int_t)cp, "fail", (json_int_t)cf, "na",
			                              (json_int_t)cn));
	}
	json_object_set_new(o, "summary", json_pack("{s:I,s:I,s:I,s:I,s:o}", "checks", (json_int_t)nchecks, "pass",
	                                            (json_int_t)np, "fail", (json_int_t)nf, "na", (json_int_t)nn, "by_type",
	                                            bytype));
	/* samples to re-run */
	json_t *rerun = json_array();
	for (size_t i = 0; i < r->seq->nitems; i++) {
		const mg_icp_item *it = &r->seq->items[i];
		const mg_icp_item_result *res = mg_icp_eval_result(r->ev, i);
		if (!mg_icp_item_is_sample(it->type) || !res->measured)
			continue;
		unsigned want = MG_ICP_RF_RERUN_CCV | MG_ICP_RF_RERUN_CCB | MG_ICP_RF_UNBRACKETED;
		json_t *els = json_array();
		unsigned why = 0;
		for (size_t a = 0; a < r->m->nanalytes; a++) {
			unsigned f = res->line[a].flags & want; /* line a: analyte a's reporting line */
			if (f) {
				json_array_append_new(els, json_string(r->m->analyte[a].element));
				why |= f;
			}
		}
		if (!json_array_size(els)) {
			json_decref(els);
			continue;
		}
		json_array_append_new(rerun, json_pack("{s:s,s:i,s:I,s:I,s:o,s:o}", "label", it->label, "position",
		                                       it->position, "item", (json_int_t)i, "sequence_line",
		                                       (json_int_t)it->line, "elements", els, "reasons", jflags(why)));
	}
	json_object_set_new(o, "rerun", rerun);
	*out = dump(o);
	return *out ? MG_OK : mg_fail(MG_ERR_NOMEM, RUN_DOM, "no memory for the report");
}
