/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The curves of a calibration record for its figure: per line the standards
 * (points {x, y} or parallel arrays under many possible names), the fitted
 * coefficients (or intercept, slope, quadratic), r, the labels of the axes
 * with their units. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report_internal.h"

/* ---- calibration curves from a calibration payload --------------------------------------- */

void rp_cal_clear(rp_cal *x)
{
	for (size_t i = 0; i < x->narrays; i++)
		free(x->arrays[i]);
	free(x->arrays);
	for (size_t i = 0; i < x->nlabels; i++)
		free(x->labels[i]);
	free(x->labels);
	free(x->c);
	memset(x, 0, sizeof(*x));
}

static int curve_from(const json_t *o, const json_t *top, rp_cal *out)
{
	static const char *const KX[] = {"concentration", "conc", "x", "reference", "reference_wt_pct", "certified",
	                                 "true", "nominal", "wt_pct", "concentration_mg_l", NULL};
	static const char *const KY[] = {"signal", "intensity", "y", "response", "ratio", "net_intensity",
	                                 "measured", "kratio", "k", "counts", "cps", NULL};
	size_t n = 0;
	double *xv = NULL, *yv = NULL;
	json_t *pts = json_object_get(o, "points");
	if (!json_is_array(pts))
		pts = json_object_get(o, "standards");
	if (json_is_array(pts) && json_array_size(pts) > 0 && json_is_object(json_array_get(pts, 0))) {
		size_t m = json_array_size(pts);
		xv = malloc(m * sizeof(double));
		yv = malloc(m * sizeof(double));
		if (!xv || !yv) {
			free(xv);
			free(yv);
			return MG_ERR_NOMEM;
		}
		size_t i;
		json_t *p;
		json_array_foreach(pts, i, p)
		{
			double a = rp_jnum(p, KX), b = rp_jnum(p, KY);
			if (isfinite(a) && isfinite(b)) {
				xv[n] = a;
				yv[n] = b;
				n++;
			}
		}
	} else {
		size_t nx = 0, ny = 0;
		xv = rp_jarray(o, KX, &nx);
		yv = rp_jarray(o, KY, &ny);
		n = xv && yv && nx == ny ? nx : 0;
	}
	if (n < 1) {
		free(xv);
		free(yv);
		return MG_ERR_NOT_FOUND;
	}
	mg_plot_calcurve *c = realloc(out->c, (out->n + 1) * sizeof(*c));
	if (!c || rp_keep_array(&out->arrays, &out->narrays, xv) || rp_keep_array(&out->arrays, &out->narrays, yv)) {
		if (c)
			out->c = c;
		return MG_ERR_NOMEM;
	}
	out->c = c;
	mg_plot_calcurve *v = &out->c[out->n++];
	memset(v, 0, sizeof(*v));
	v->n = n;
	v->x = xv;
	v->y = yv;
	v->r = rp_jnum(o, (const char *const[]){"r", "correlation", NULL});
	json_t *co = json_object_get(o, "coefficients");
	if (!json_is_array(co))
		co = json_object_get(o, "coef");
	if (json_is_array(co) && json_array_size(co) >= 2 && json_array_size(co) <= 3) {
		v->ncoef = json_array_size(co);
		for (size_t i = 0; i < v->ncoef; i++)
			v->coef[i] = json_number_value(json_array_get(co, i));
	} else {
		double a = rp_jnum(o, (const char *const[]){"intercept", "a0", NULL});
		double b = rp_jnum(o, (const char *const[]){"slope", "a1", NULL});
		double q = rp_jnum(o, (const char *const[]){"quadratic", "a2", NULL});
		if (isfinite(b)) {
			v->coef[0] = isfinite(a) ? a : 0;
			v->coef[1] = b;
			v->ncoef = 2;
			if (isfinite(q)) {
				v->coef[2] = q;
				v->ncoef = 3;
			}
		}
	}
	const char *lab = rp_jstr(o, (const char *const[]){"label", "line", "element", "name", NULL});
	v->label = rp_keep_label(&out->labels, &out->nlabels, lab ? lab : "curve");
	const char *xl = rp_jstr(o, (const char *const[]){"x_label", NULL});
	const char *unit = rp_jstr(o, (const char *const[]){"unit", "units", "x_unit", "concentration_unit", NULL});
	if (!unit)
		unit = rp_jstr(top, (const char *const[]){"units", "unit", NULL});
	char b[96];
	if (!xl) {
		snprintf(b, sizeof(b), "Concentration (%s)", unit ? unit : "mg/L");
		xl = b;
	}
	v->x_label = rp_keep_label(&out->labels, &out->nlabels, xl);
	const char *yl = rp_jstr(o, (const char *const[]){"y_label", NULL});
	const char *resp = rp_jstr(top, (const char *const[]){"response", NULL});
	char yb[160];
	if (!yl && resp) {
		snprintf(yb, sizeof(yb), "%c%s (counts)", resp[0] >= 'a' && resp[0] <= 'z' ? resp[0] - 32 : resp[0], resp + 1);
		yl = yb;
	}
	v->y_label = rp_keep_label(&out->labels, &out->nlabels, yl ? yl : "Signal");
	return MG_OK;
}

int rp_cal_from_payload(const json_t *payload, rp_cal *out)
{
	memset(out, 0, sizeof(*out));
	static const char *const K[] = {"curves", "lines", "elements", "calibrations", NULL};
	int e = MG_OK;
	for (size_t k = 0; K[k] && out->n == 0; k++) {
		json_t *a = json_object_get(payload, K[k]);
		if (json_is_array(a)) {
			size_t i;
			json_t *o;
			json_array_foreach(a, i, o)
			{
				if (json_is_object(o) && (e = curve_from(o, payload, out)) == MG_ERR_NOMEM)
					break;
			}
		} else if (json_is_object(a)) {
			const char *key;
			json_t *o;
			json_object_foreach(a, key, o)
			{
				if (!json_is_object(o))
					continue;
				if ((e = curve_from(o, payload, out)) == MG_ERR_NOMEM)
					break;
				if (e == MG_OK && out->c[out->n - 1].label[0] == 'c' &&
				    strcmp(out->c[out->n - 1].label, "curve") == 0) {
					/* the key names the curve */
					const char *l = rp_keep_label(&out->labels, &out->nlabels, key);
					if (l)
						out->c[out->n - 1].label = l;
				}
			}
		}
	}
	if (out->n == 0 && e != MG_ERR_NOMEM && json_is_object(payload))
		e = curve_from(payload, payload, out);
	if (e == MG_ERR_NOMEM) {
		rp_cal_clear(out);
		return mg_fail(MG_ERR_NOMEM, RP_DOM, "out of memory");
	}
	if (out->n == 0) {
		rp_cal_clear(out);
		return mg_fail(MG_ERR_NOT_FOUND, RP_DOM,
		               "the calibration carries no curve (standards with concentration and signal)");
	}
	return MG_OK;
}

