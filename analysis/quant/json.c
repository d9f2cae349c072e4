/* SPDX-License-Identifier: GPL-3.0-or-later */
/* JSON of quantification results (jansson; NAN is written as null). The
 * calibration payload's JSON is calib/quant_calibration.c. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static const char *const eflag_names[] = {"below-lod", "below-loq", "outside-range", "nominal", "icp",
                                          "difference", "poor-fit", "coating", "no-standard"};
static const char *const sflag_names[] = {"coating-suspected", "total-low", "total-high", "not-converged",
                                          "normalised", "outside-range", "poor-fit"};

static int flags_str(unsigned f, const char *const *names, size_t n, char *buf, size_t size)
{
	size_t pos = 0;
	if (size)
		buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		if (f & (1u << i)) {
			int w = snprintf(pos < size ? buf + pos : NULL, pos < size ? size - pos : 0, "%s%s", pos ? "," : "",
			                 names[i]);
			if (w > 0)
				pos += (size_t)w;
		}
	return (int)pos;
}

int mg_quant_element_flags_str(unsigned flags, char *buf, size_t size)
{
	return flags_str(flags, eflag_names, MG_ARRAY_SIZE(eflag_names), buf, size);
}

int mg_quant_sample_flags_str(unsigned flags, char *buf, size_t size)
{
	return flags_str(flags, sflag_names, MG_ARRAY_SIZE(sflag_names), buf, size);
}

static json_t *flags_json(unsigned f, const char *const *names, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		if (f & (1u << i))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *sum_json(const mg_quant_sum *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "wt_pct", jreal(s->wt_pct));
	json_object_set_new(o, "sigma", jreal(s->sigma));
	return o;
}

char *mg_quant_result_json(const mg_quant_result *r)
{
	if (!r)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "method", json_string(mg_quant_method_name(r->method)));
	json_object_set_new(o, "method_detail", json_string(r->method_detail));
	json_t *comp = json_array(), *kr = json_array();
	for (size_t i = 0; i < r->n; i++) {
		const mg_quant_element *e = &r->el[i];
		json_t *x = json_object();
		json_object_set_new(x, "element", json_string(e->element));
		json_object_set_new(x, "line", json_string(e->line));
		json_object_set_new(x, "wt_pct", jreal(e->wt_pct));
		json_object_set_new(x, "sigma", jreal(e->sigma));
		json_object_set_new(x, "u_counting", jreal(e->u_counting));
		json_object_set_new(x, "u_calibration", jreal(e->u_calibration));
		json_object_set_new(x, "u_matrix", jreal(e->u_matrix));
		json_object_set_new(x, "lod_wt_pct", jreal(e->lod_wt_pct));
		json_object_set_new(x, "loq_wt_pct", jreal(e->loq_wt_pct));
		json_object_set_new(x, "flags", flags_json(e->flags, eflag_names, MG_ARRAY_SIZE(eflag_names)));
		json_object_set_new(x, "source", json_string(e->source));
		json_array_append_new(comp, x);
		if (isfinite(e->k)) {
			json_t *k = json_object();
			json_object_set_new(k, "element", json_string(e->element));
			json_object_set_new(k, "line", json_string(e->line));
			json_object_set_new(k, "k", jreal(e->k));
			json_object_set_new(k, "sigma", jreal(e->k_sigma));
			json_array_append_new(kr, k);
		}
	}
	json_object_set_new(o, "composition", comp);
	json_object_set_new(o, "kratios", kr);
	json_t *t = json_object();
	json_object_set_new(t, "total", sum_json(&r->total));
	json_object_set_new(t, "tree", sum_json(&r->tree));
	json_object_set_new(t, "nd_pr", sum_json(&r->ndpr));
	json_object_set_new(t, "dy_tb", sum_json(&r->dytb));
	json_object_set_new(o, "totals", t);
	json_object_set_new(o, "grade", r->grade[0] ? json_string(r->grade) : json_null());
	json_object_set_new(o, "grade_description", json_string(r->grade_description));
	json_object_set_new(o, "flags", flags_json(r->flags, sflag_names, MG_ARRAY_SIZE(sflag_names)));
	json_object_set_new(o, "boron", json_string(r->boron));
	json_object_set_new(o, "calibration_id", r->calibration_id ? json_integer(r->calibration_id) : json_null());
	json_object_set_new(o, "calibration", r->calibration[0] ? json_string(r->calibration) : json_null());
	json_object_set_new(o, "iterations", json_integer(r->iterations));
	json_object_set_new(o, "converged", json_boolean(r->converged));
	json_t *notes = json_array();
	for (size_t i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->notes[i]));
	json_object_set_new(o, "notes", notes);
	char *s = json_dumps(o, JSON_REAL_PRECISION(8) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
