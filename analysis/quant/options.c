/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Quantification options and names: the defaults, method names, the element
 * of a result, and the notes a run attaches to its result. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"

void mg_quant_options_default(mg_quant_options *o)
{
	memset(o, 0, sizeof *o);
	o->method = MG_QUANT_FP;
	o->normalise = -1;
	mg_quant_comp_set(&o->fixed, 5, 0.010, 0.0015); /* B 1.00 ± 0.15 wt% (RE2Fe14B) */
	snprintf(o->fixed_source, sizeof o->fixed_source, "nominal");
	o->total_lo_pct = 98;
	o->total_hi_pct = 102;
	o->coating_ratio = 0.5;
	o->coating_wt_pct = 5;
	o->lod_k = 3;
	o->loq_k = 10;
	o->max_iter = 60;
	o->tol = 1e-6;
	o->u_sf_rel = 0.08;
	o->u_tube_tilt = 0.15;
	o->u_mu_rel = 0.03;
	o->u_fp_data_rel = 0.05;
}

const char *mg_quant_method_name(mg_quant_method m)
{
	switch (m) {
	case MG_QUANT_FP: return "fp";
	case MG_QUANT_KRATIO: return "kratio";
	case MG_QUANT_EMPIRICAL: return "empirical";
	}
	return "?";
}

int mg_quant_method_parse(const char *s, mg_quant_method *m)
{
	if (!s || !m)
		return mg_fail(MG_ERR_ARG, QDOM, "method: NULL");
	if (strcmp(s, "fp") == 0)
		*m = MG_QUANT_FP;
	else if (strcmp(s, "kratio") == 0 || strcmp(s, "standards") == 0)
		*m = MG_QUANT_KRATIO;
	else if (strcmp(s, "empirical") == 0)
		*m = MG_QUANT_EMPIRICAL;
	else
		return mg_fail(MG_ERR_ARG, QDOM, "method '%s' is not fp, kratio or empirical", s);
	return 0;
}

const mg_quant_element *mg_quant_result_find(const mg_quant_result *r, int z)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (r->el[i].z == z)
			return &r->el[i];
	return NULL;
}

void q_note(mg_quant_result *res, const char *fmt, ...)
{
	if (res->nnotes >= MG_QUANT_MAX_NOTES)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->notes[res->nnotes++], sizeof res->notes[0], fmt, ap);
	va_end(ap);
}
