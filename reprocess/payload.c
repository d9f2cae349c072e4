/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The result payload of a reprocessed spectrum, and reading back what the
 * change report compares. The shape follows `magassay analyze --store`
 * (docs/data-model.md, "Result payloads") so reports and `show` read both. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/version.h"
#include "reprocess_internal.h"

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

char *rp_payload(const rp_output *o)
{
	json_t *p = json_object();
	json_object_set_new(p, "file", json_string(o->file));
	if (o->sample_id)
		json_object_set_new(p, "sample_id", json_string(o->sample_id));
	/* the fit, as analyze writes it */
	char *fs = o->fit ? mg_analysis_result_json(o->fit, o->live_time_s) : NULL;
	json_t *fit = fs ? json_loads(fs, 0, NULL) : NULL;
	free(fs);
	if (fit)
		json_object_update(p, fit);
	else
		json_object_set_new(p, "live_time_s", jreal(o->live_time_s));
	json_decref(fit);

	/* the quantification: the library's own JSON, with composition, kratios
	 * and calibration_id at the top level as analyze writes them */
	char *qs = mg_quant_result_json(o->q);
	json_t *q = qs ? json_loads(qs, 0, NULL) : NULL;
	free(qs);
	if (!q) {
		json_decref(p);
		return NULL;
	}
	json_t *kr = json_array();
	for (size_t i = 0; i < o->nk; i++)
		json_array_append_new(kr, json_pack("{s:s,s:s,s:o,s:o,s:s}", "element", o->kr[i].element, "line",
		                                    o->kr[i].line, "k", jreal(o->kr[i].k), "sigma", jreal(o->kr[i].sigma),
		                                    "standard", o->kr[i].standard));
	json_object_set_new(p, "kratios", kr);
	json_t *comp = json_object_get(q, "composition");
	json_object_set(p, "composition", comp ? comp : json_array());
	json_object_set_new(p, "calibration_id", o->q->calibration_id ? json_integer(o->q->calibration_id) : json_null());
	json_object_del(q, "composition");
	json_object_del(q, "kratios");
	json_object_del(q, "calibration_id");
	json_t *conf = json_array();
	for (int i = 0; i < o->nconf; i++)
		json_array_append_new(conf, json_pack("{s:s,s:s,s:s}", "key", o->conf[i].key, "instrument_file",
		                                      o->conf[i].file_value, "spectrum", o->conf[i].spectrum_value));
	json_object_set_new(q, "instrument_conflicts", conf);
	json_object_set_new(p, "quant", q);
	json_object_set_new(p, "reprocess", json_pack("{s:s,s:s,s:s}", "key", o->key, "settings", o->settings,
	                                              "software", "magassay " MAGASSAY_VERSION_STRING));
	char *text = json_dumps(p, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(p);
	return text;
}

static double num(json_t *x)
{
	return json_is_number(x) ? json_number_value(x) : NAN;
}

void rp_values_read(const char *payload_json, rp_values *out)
{
	memset(out, 0, sizeof *out);
	json_t *p = payload_json ? json_loads(payload_json, 0, NULL) : NULL;
	if (!json_is_object(p)) {
		json_decref(p);
		return;
	}
	json_t *comp = json_object_get(p, "composition"), *x;
	size_t i;
	json_array_foreach(comp, i, x)
	{
		const char *el = json_string_value(json_object_get(x, "element"));
		if (!el || strlen(el) > 3 || out->n >= MG_QUANT_MAX_EL)
			continue;
		memcpy(out->element[out->n], el, strlen(el) + 1);
		out->wt[out->n] = num(json_object_get(x, "wt_pct"));
		out->sigma[out->n] = num(json_object_get(x, "sigma"));
		out->n++;
	}
	out->quantified = out->n > 0;
	const char *k = json_string_value(json_object_get(json_object_get(p, "reprocess"), "key"));
	if (k && strlen(k) == 64)
		memcpy(out->key, k, 65);
	json_t *q = json_object_get(p, "quant");
	const char *g = json_string_value(json_object_get(q, "grade"));
	if (g)
		snprintf(out->grade, sizeof out->grade, "%s", g);
	json_t *f = json_object_get(q, "flags");
	size_t pos = 0;
	json_array_foreach(f, i, x)
	{
		const char *s = json_string_value(x);
		if (!s)
			continue;
		int n = snprintf(out->flags + pos, sizeof out->flags - pos, "%s%s", pos ? "," : "", s);
		if (n < 0 || pos + (size_t)n >= sizeof out->flags)
			break;
		pos += (size_t)n;
	}
	json_decref(p);
}

static mg_reprocess_element_change *element_slot(mg_reprocess_summary *sum, const char *el)
{
	for (size_t i = 0; i < sum->nelements; i++)
		if (strcmp(sum->el[i].element, el) == 0)
			return &sum->el[i];
	if (sum->nelements >= MG_REPROCESS_MAX_ELEMENTS)
		return NULL;
	mg_reprocess_element_change *c = &sum->el[sum->nelements++];
	memset(c, 0, sizeof *c);
	snprintf(c->element, sizeof c->element, "%s", el);
	return c;
}

int rp_compare(mg_reprocess_summary *sum, long long measurement_id, const rp_values *o, const rp_values *n)
{
	sum->compared++;
	for (size_t i = 0; i < n->n; i++)
		for (size_t j = 0; j < o->n; j++) {
			if (strcmp(n->element[i], o->element[j]) != 0 || !isfinite(n->wt[i]) || !isfinite(o->wt[j]))
				continue;
			mg_reprocess_element_change *c = element_slot(sum, n->element[i]);
			if (!c)
				break;
			double d = n->wt[i] - o->wt[j];
			/* running means: no sums that grow with the archive */
			c->n++;
			c->mean_delta += (d - c->mean_delta) / (double)c->n;
			c->mean_abs_delta += (fabs(d) - c->mean_abs_delta) / (double)c->n;
			if (o->wt[j] > 0) {
				c->n_rel++;
				c->mean_rel_delta += (d / o->wt[j] - c->mean_rel_delta) / (double)c->n_rel;
			}
			if (fabs(d) > c->max_abs_delta || c->n == 1) {
				c->max_abs_delta = fabs(d);
				c->max_measurement = measurement_id;
			}
			double s2 = (isfinite(o->sigma[j]) ? o->sigma[j] * o->sigma[j] : 0) +
			            (isfinite(n->sigma[i]) ? n->sigma[i] * n->sigma[i] : 0);
			if (fabs(d) > 2 * sqrt(s2))
				c->n_significant++;
			break;
		}
	int what = 0;
	if (strcmp(o->grade, n->grade) != 0) {
		what |= 1;
		sum->grade_changes++;
	}
	if (strcmp(o->flags, n->flags) != 0) {
		what |= 2;
		sum->qc_changes++;
	}
	return what;
}
