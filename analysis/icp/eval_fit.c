/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Line fits of a run's readings (eval_internal.h): the reference shape of
 * every line from the calibration readings (fitted freely on the standard
 * richest in the analyte, or borrowed from the other lines), then every
 * reading fitted with that shape — the same estimator for standards, blanks
 * and samples. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eval_internal.h"
#include "internal.h"

static void fit_opts_for(const mg_icp_eval *e, size_t l, mg_icp_fit_opts *o)
{
	*o = *e->line_fit[l];
	if (e->shape_ok[l]) {
		o->fix_width = 1;
		o->fwhm_nm = e->shape_w[l];
		o->eta = e->shape_eta[l];
		o->centre_nm = e->shape_c[l];
		if (o->shift_max_nm < 0.002)
			o->shift_max_nm = 0.002;
	}
}

/* Net intensities of every line and replicate of a measured item. */
void eval_fit_item(mg_icp_eval *e, size_t i, const mg_icp_measurement *m, const size_t *map)
{
	icp_item_data *d = &e->data[i];
	d->nrep = m->nreplicates;
	for (size_t l = 0; l < e->nlines; l++) {
		mg_icp_fit_opts o;
		fit_opts_for(e, l, &o);
		d->fit_status[l] = MG_OK;
		for (size_t k = 0; k < m->nreplicates; k++) {
			mg_icp_linefit lf;
			int rc = mg_icp_fit_line(&m->replicate[k].window[map[l]], e->lines[l].wavelength_nm, &o, &lf);
			d->net[l][k] = rc == MG_OK ? lf.net : NAN;
			if (rc != MG_OK) {
				d->fit_status[l] = rc;
				mg_warn(EVAL_DOM, "%s, %s replicate %zu: %s", e->seq->items[i].label, e->lines[l].label, k + 1,
				        mg_error_detail());
			}
		}
	}
	d->have = 1;
}

/* The reference shape of each line: a free fit of the replicate-mean window
 * of the standard richest in the analyte (the IS: the calibration blank). */
void eval_reference_shapes(mg_icp_eval *e, const size_t *map)
{
	const mg_icp_method *m = e->m;
	for (size_t l = 0; l < e->nlines; l++) {
		e->shape_ok[l] = 0;
		int a = e->line_analyte[l];
		size_t best = NOITEM;
		double bestv = 0;
		for (size_t i = 0; i < e->cal_end; i++) {
			const mg_icp_item *it = &e->seq->items[i];
			if (!e->data[i].raw)
				continue;
			if (a < 0) {
				if (best == NOITEM || it->type == MG_ICP_ITEM_CAL_BLANK)
					best = best == NOITEM || e->seq->items[best].type != MG_ICP_ITEM_CAL_BLANK ? i : best;
				continue;
			}
			if (it->type != MG_ICP_ITEM_CAL_STD)
				continue;
			const mg_icp_solution *so = mg_icp_method_solution(m, it->solution[0] ? it->solution : it->label,
			                                                   MG_ICP_SOL_STANDARD);
			if (so && isfinite(so->value[a]) && so->value[a] > bestv) {
				bestv = so->value[a];
				best = i;
			}
		}
		if (best == NOITEM)
			continue;
		const mg_icp_measurement *raw = e->data[best].raw;
		mg_icp_window mean = raw->replicate[0].window[map[l]];
		for (size_t p = 0; p < mean.npix && p < MG_ICP_MAX_PIXELS; p++) {
			double s = 0;
			for (size_t k = 0; k < raw->nreplicates; k++)
				s += raw->replicate[k].window[map[l]].intensity[p];
			mean.intensity[p] = s / (double)raw->nreplicates;
		}
		mg_icp_fit_opts o = *e->line_fit[l];
		o.fix_width = 0;
		o.fix_centre = 0;
		o.centre_free_snr = 0;
		mg_icp_linefit lf;
		if (mg_icp_fit_line(&mean, e->lines[l].wavelength_nm, &o, &lf) == MG_OK && lf.net > 0 &&
		    lf.net > 10 * lf.net_u) {
			e->shape_ok[l] = 1;
			e->shape_c[l] = lf.centre_nm;
			e->shape_w[l] = lf.fwhm_nm;
			e->shape_eta[l] = lf.eta;
			mg_dbg(EVAL_DOM, "%s: reference shape from %s: centre %.4f nm, FWHM %.4f nm, eta %.2f", e->lines[l].label,
			       e->seq->items[best].label, lf.centre_nm, lf.fwhm_nm, lf.eta);
		} else {
			mg_dbg(EVAL_DOM, "%s: no reference shape from %s (the line is weak or overlapped)", e->lines[l].label,
			       e->seq->items[best].label);
		}
	}
	/* lines without a shape of their own borrow one: FWHM linear in the
	 * wavelength and the median η of the lines that have one, centred on
	 * the line's wavelength shifted by the median offset seen */
	double sx = 0, sy = 0, sxx = 0, sxy = 0, etas[MG_ICP_MAX_LINES], offs[MG_ICP_MAX_LINES];
	size_t ng = 0;
	for (size_t l = 0; l < e->nlines; l++)
		if (e->shape_ok[l] == 1) {
			double x = e->lines[l].wavelength_nm, y = e->shape_w[l];
			sx += x;
			sy += y;
			sxx += x * x;
			sxy += x * y;
			etas[ng] = e->shape_eta[l];
			offs[ng] = e->shape_c[l] - x;
			ng++;
		}
	if (ng == 0)
		return;
	double det = (double)ng * sxx - sx * sx;
	double b = ng >= 2 && fabs(det) > 1e-12 ? ((double)ng * sxy - sx * sy) / det : 0, a = (sy - b * sx) / (double)ng;
	for (size_t i = 1; i < ng; i++) /* insertion sort, small */
		for (size_t j = i; j > 0 && etas[j] < etas[j - 1]; j--) {
			double t = etas[j];
			etas[j] = etas[j - 1];
			etas[j - 1] = t;
		}
	for (size_t i = 1; i < ng; i++)
		for (size_t j = i; j > 0 && offs[j] < offs[j - 1]; j--) {
			double t = offs[j];
			offs[j] = offs[j - 1];
			offs[j - 1] = t;
		}
	for (size_t l = 0; l < e->nlines; l++) {
		if (e->shape_ok[l])
			continue;
		double w = a + b * e->lines[l].wavelength_nm;
		if (!(w > 0))
			w = sy / (double)ng;
		e->shape_ok[l] = 2;
		e->shape_w[l] = w;
		e->shape_eta[l] = etas[ng / 2];
		e->shape_c[l] = e->lines[l].wavelength_nm + offs[ng / 2];
		mg_info(EVAL_DOM, "%s: shape borrowed from the other lines (FWHM %.4f nm, eta %.2f)", e->lines[l].label, w,
		        e->shape_eta[l]);
	}
}
