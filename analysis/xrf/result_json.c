/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A spectrum fit as JSON: the part of a result payload that the analysis
 * makes (docs/data-model.md, result payloads), shared by `magassay analyze`
 * and reprocessing so both write the same shape. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "magassay/analysis.h"

static json_t *jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

char *mg_analysis_result_json(const mg_analysis_result *r, double live_time_s)
{
	if (!r)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "calibration",
	                    json_pack("{s:o,s:o,s:o,s:o,s:o}", "offset_kev", jreal(r->cal.offset_kev), "gain_kev",
	                              jreal(r->cal.gain_kev), "quad_kev", jreal(r->cal.quad_kev), "noise_kev",
	                              jreal(r->noise_kev), "fano", jreal(r->fano)));
	json_object_set_new(o, "chi2_reduced", jreal(r->chi2_reduced));
	json_object_set_new(o, "live_time_s", jreal(live_time_s));
	json_t *fams = json_array();
	for (size_t i = 0; i < r->nfamilies; i++) {
		const mg_family_result *f = &r->families[i];
		const char *el = f->element[0] ? f->element : f->kind == MG_FAMILY_PILEUP ? "pileup" : "beam";
		json_t *fo = json_object();
		json_object_set_new(fo, "element", json_string(el));
		json_object_set_new(fo, "family", json_string(f->family));
		json_object_set_new(fo, "area", jreal(f->area));
		json_object_set_new(fo, "sigma", jreal(f->sigma));
		json_object_set_new(fo, "cps", jreal(f->cps));
		json_object_set_new(fo, "dl", jreal(f->dl));
		json_object_set_new(fo, "status", json_string(mg_family_status_name(f->status)));
		json_object_set_new(fo, "energy_kev", jreal(f->energy_kev));
		json_array_append_new(fams, fo);
	}
	json_object_set_new(o, "families", fams);
	json_t *w = json_array();
	for (size_t i = 0; i < r->nwarnings; i++)
		json_array_append_new(w, json_string(r->warnings[i].text));
	json_object_set_new(o, "warnings", w);
	char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(o);
	return text;
}
