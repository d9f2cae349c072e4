/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Flags of a quantification result:
 *  - per element: below LOD ("not detected, < LOD"), below LOQ ("detected, not
 *    quantifiable"), outside the calibrated range, poor fit of its line family,
 *    nominal / ICP / by difference, coating element;
 *  - per sample: coating suspected — on a magnet (a rare earth among the
 *    analytes) whose spectrum Ni/Cu (or Zn) dominate: their K-line intensity
 *    above coating_ratio × Fe K, or Ni + Cu + Zn above coating_wt_pct. A
 *    Ni–Cu–Ni plated magnet is then flagged, its plating elements marked and
 *    the grade withheld — never reported as a Ni-rich alloy (the L lines see
 *    the top ~20 µm: the plating, not the magnet);
 *    total outside total_lo_pct..total_hi_pct; not converged; poor spectrum fit;
 *  - how boron, invisible to XRF, was handled. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "quant_internal.h"

static size_t analyte_index(const q_run *r, int z)
{
	for (size_t k = 0; k < r->na; k++)
		if (r->a[k].z == z)
			return k;
	return (size_t)-1;
}

static int range_of(const mg_quant *q, const q_an *a, double *lo, double *hi)
{
	if (a->emp) {
		*lo = a->emp->w_min;
		*hi = a->emp->w_max;
		return isfinite(*lo) && isfinite(*hi);
	}
	if (q->has_cal && q->cal.nstd >= 2) {
		for (size_t i = 0; i < q->cal.range_lo.n; i++)
			if (q->cal.range_lo.z[i] == a->z) {
				*lo = q->cal.range_lo.w[i];
				*hi = q->cal.range_hi.w[i];
				return 1;
			}
	}
	return 0;
}

/* Line rate (per µA) of element z's K family in the unknown (0 if absent). */
static double k_rate(const mg_quant_meas *u, int z)
{
	double s = 0;
	for (size_t i = 0; i < u->n; i++)
		if (u->lines[i].z == z && u->lines[i].line[0] == 'K') {
			double r = mg_quant_line_rate(u, &u->lines[i]);
			if (isfinite(r) && r > 0)
				s += r;
		}
	return s;
}

void q_flags(const q_run *r, mg_quant_result *res)
{
	const mg_quant *q = r->q;
	const mg_quant_options *o = &q->o;
	int magnet = 0;
	for (size_t k = 0; k < r->na; k++)
		magnet |= r->a[k].z >= 57 && r->a[k].z <= 71;
	/* coating */
	static const int coat_z[] = {28, 29, 30};
	double coat_rate = 0, coat_w = 0;
	for (size_t i = 0; i < MG_ARRAY_SIZE(coat_z); i++) {
		coat_rate += k_rate(r->unk, coat_z[i]);
		const mg_quant_element *e = mg_quant_result_find(res, coat_z[i]);
		if (e && isfinite(e->wt_pct) && e->wt_pct > 0)
			coat_w += e->wt_pct;
	}
	double fe_rate = k_rate(r->unk, 26);
	int coated = magnet && coat_rate > 0 &&
	             (coat_rate > o->coating_ratio * fe_rate || (o->coating_wt_pct > 0 && coat_w > o->coating_wt_pct));
	if (coated) {
		res->flags |= MG_QS_COATING;
		char what[128] = "";
		size_t len = 0;
		for (size_t i = 0; i < MG_ARRAY_SIZE(coat_z); i++) {
			const mg_quant_element *e = mg_quant_result_find(res, coat_z[i]);
			if (e && e->wt_pct > 0.5)
				len += (size_t)snprintf(what + len, sizeof what - len, "%s%s %.0f wt%%", len ? ", " : "",
				                        e->element, e->wt_pct);
		}
		q_note(res,
		       "coating suspected: %s dominate the spectrum (Ni+Cu+Zn K %.2f x Fe K); the L lines see the top "
		       "~20 um: this describes the plating, not the magnet. Remove the coating (grind, or crush) "
		       "and measure again; no grade given",
		       what[0] ? what : "Ni/Cu", fe_rate > 0 ? coat_rate / fe_rate : INFINITY);
	}
	/* elements */
	for (size_t i = 0; i < res->n; i++) {
		mg_quant_element *e = &res->el[i];
		if (coated && (e->z == 28 || e->z == 29 || e->z == 30))
			e->flags |= MG_QE_COATING;
		size_t k = analyte_index(r, e->z);
		if (k == (size_t)-1)
			continue;
		const q_an *a = &r->a[k];
		if (a->line->status == MG_FAMILY_POOR_FIT)
			e->flags |= MG_QE_POOR_FIT;
		double w = e->wt_pct;
		if (isfinite(e->lod_wt_pct) && w < e->lod_wt_pct)
			e->flags |= MG_QE_BELOW_LOD;
		else if (isfinite(e->loq_wt_pct) && w < e->loq_wt_pct)
			e->flags |= MG_QE_BELOW_LOQ;
		double lo, hi;
		if (range_of(q, a, &lo, &hi)) {
			double tol = fmax(e->sigma / 100, 0.02 * (hi - lo));
			if (w / 100 < lo - tol || w / 100 > hi + tol) {
				e->flags |= MG_QE_OUTSIDE_RANGE;
				res->flags |= MG_QS_OUTSIDE_RANGE;
				q_note(res, "%s %.3f wt%% outside the calibrated range %.3f..%.3f wt%%", e->element, w,
				       100 * lo, 100 * hi);
			}
		}
	}
	/* total */
	if (!(res->flags & MG_QS_NORMALISED) && isfinite(res->total.wt_pct)) {
		if (res->total.wt_pct < o->total_lo_pct)
			res->flags |= MG_QS_TOTAL_LOW;
		if (res->total.wt_pct > o->total_hi_pct)
			res->flags |= MG_QS_TOTAL_HIGH;
		if (res->flags & (MG_QS_TOTAL_LOW | MG_QS_TOTAL_HIGH))
			q_note(res, "total %.2f wt%% outside %.0f-%.0f %%: unmeasured elements, coating, oxide or a "
			       "calibration problem",
			       res->total.wt_pct, o->total_lo_pct, o->total_hi_pct);
	}
	if (r->unk->chi2_reduced > 5)
		res->flags |= MG_QS_POOR_FIT;
	/* boron */
	int has_b = 0;
	for (size_t i = 0; i < o->fixed.n; i++)
		if (o->fixed.z[i] == 5) {
			has_b = 1;
			int icp = strcmp(o->fixed_source, "icp") == 0;
			snprintf(res->boron, sizeof res->boron,
			         "boron is invisible to XRF (B Ka 0.183 keV): %s %.2f +- %.2f wt%%, in the matrix and the total",
			         icp ? "from ICP" : "nominal (RE2Fe14B stoichiometry)", 100 * o->fixed.w[i],
			         100 * o->fixed.u[i]);
		}
	if (!has_b && magnet)
		snprintf(res->boron, sizeof res->boron,
		         "boron is invisible to XRF (B Ka 0.183 keV) and no nominal or ICP value was given: not in the "
		         "matrix nor the total");
}
