/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The calibration of a run (eval_internal.h): after the last calibration
 * item, the reference shapes and the fits of the calibration readings, the
 * internal standard's reference, curves per line with LOD/LOQ from the
 * calibration blank, the calibration checks (r, back-calculated residuals),
 * the recorder told, then the calibration items evaluated with the curves.
 * And the end of a run, complete or not. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_internal.h"
#include "internal.h"

/* Curves and the calibration checks, after the last calibration item. */
int eval_calibrate(mg_icp_eval *e, const size_t *map)
{
	const mg_icp_method *m = e->m;
	if (map)
		eval_reference_shapes(e, map);
	for (size_t i = 0; i < e->cal_end; i++) {
		if (!e->data[i].raw)
			continue;
		eval_fit_item(e, i, e->data[i].raw, map);
		free(e->data[i].raw);
		e->data[i].raw = NULL;
	}
	/* the IS reference: the first calibration blank measured */
	for (size_t i = 0; i < e->cal_end && e->is_ref_item == NOITEM; i++)
		if (e->seq->items[i].type == MG_ICP_ITEM_CAL_BLANK && e->data[i].have)
			e->is_ref_item = i;
	if (e->is_line >= 0 && e->is_ref_item != NOITEM) {
		mg_icp_stats s;
		mg_icp_stats_compute(e->data[e->is_ref_item].net[e->is_line], e->data[e->is_ref_item].nrep, &s);
		e->is_ref = s.mean > 0 ? s.mean : NAN;
		if (!isfinite(e->is_ref) && !e->conc_mode)
			mg_warn(EVAL_DOM, "the calibration blank has no internal standard signal: no IS correction");
	}
	/* responses of the calibration items */
	for (size_t i = 0; i < e->cal_end; i++)
		if (e->data[i].have)
			eval_compute_values(e, i);
	if (!e->conc_mode) {
		for (size_t l = 0; l < e->nlines; l++) {
			int a = e->line_analyte[l];
			e->curve_ok[l] = 0;
			if (a < 0)
				continue;
			double x[MG_ICP_MAX_CAL_POINTS], y[MG_ICP_MAX_CAL_POINTS];
			size_t n = 0;
			for (size_t i = 0; i < e->cal_end && n < MG_ICP_MAX_CAL_POINTS; i++) {
				const mg_icp_item *it = &e->seq->items[i];
				if (!e->data[i].have)
					continue;
				double conc = 0;
				if (it->type == MG_ICP_ITEM_CAL_STD) {
					const mg_icp_solution *so = eval_item_solution(e, i, MG_ICP_SOL_STANDARD);
					if (!so || !isfinite(so->value[a]))
						continue; /* not in this standard */
					conc = so->value[a];
				}
				double yv = e->res[i].line[l].net;
				if (!isfinite(yv))
					continue;
				x[n] = conc;
				y[n++] = yv;
			}
			mg_icp_curve *cv = &e->curve[l];
			if (mg_icp_curve_fit(m->analyte[a].curve, x, y, n, cv) != MG_OK) {
				snprintf(e->curve_err[l], sizeof(e->curve_err[l]), "%s", mg_error_detail());
				mg_warn(EVAL_DOM, "%s: no calibration curve: %s", e->lines[l].label, e->curve_err[l]);
				continue;
			}
			e->curve_ok[l] = 1;
			if (e->is_ref_item != NOITEM) {
				const icp_item_data *bd = &e->data[e->is_ref_item];
				if (mg_icp_curve_limits(cv, bd->resp[l], bd->nrep, 3, 10) != MG_OK)
					mg_dbg(EVAL_DOM, "%s: no LOD/LOQ: %s", e->lines[l].label, mg_error_detail());
			}
		}
	}
	e->calibrated = 1;
	/* judge the calibration of each reporting line */
	int rc = MG_OK;
	size_t last = e->cal_end ? e->cal_end - 1 : 0;
	for (size_t a = 0; a < m->nanalytes && !e->conc_mode; a++) {
		size_t l = e->primary[a];
		mg_icp_check c;
		eval_check_init(e, &c, MG_ICP_CHECK_CALIBRATION, last, (int)a);
		snprintf(c.label, sizeof(c.label), "calibration");
		snprintf(c.unit, sizeof(c.unit), "r");
		c.lo = e->q->cal_r_min;
		if (!e->curve_ok[l]) {
			c.outcome = MG_ICP_FAIL;
			snprintf(c.note, sizeof(c.note), "no curve: %.100s", e->curve_err[l]);
		} else {
			const mg_icp_curve *cv = &e->curve[l];
			c.value = cv->r;
			c.outcome = mg_icp_judge(c.value, (mg_icp_limits){e->q->cal_r_min, NAN});
			/* back-calculated standards: ±limit, the lowest one ±its own (near the LLOQ) */
			double xlow = INFINITY, worst = 0, bad = 0, badlim = 0;
			for (size_t k = 0; k < cv->n; k++)
				if (cv->x[k] > 0 && cv->x[k] < xlow)
					xlow = cv->x[k];
			for (size_t k = 0; k < cv->n; k++) {
				if (!isfinite(cv->resid_pct[k]))
					continue;
				if (fabs(cv->resid_pct[k]) > fabs(worst))
					worst = cv->resid_pct[k];
				double lim = cv->x[k] == xlow && isfinite(e->q->cal_resid_low_max_pct) ? e->q->cal_resid_low_max_pct
				                                                                        : e->q->cal_resid_max_pct;
				if (isfinite(lim) && fabs(cv->resid_pct[k]) > lim && fabs(cv->resid_pct[k]) - lim > fabs(bad) - badlim) {
					bad = cv->resid_pct[k];
					badlim = lim;
				}
			}
			if (bad != 0) {
				c.outcome = MG_ICP_FAIL;
				snprintf(c.note, sizeof(c.note), "%zu points; back-calculated residual %+.1f %% exceeds ±%g %%", cv->n,
				         bad, badlim);
			} else {
				snprintf(c.note, sizeof(c.note), "%zu points, largest back-calculated residual %+.2f %%", cv->n, worst);
			}
		}
		e->cal_failed[a] = c.outcome == MG_ICP_FAIL;
		if ((rc = eval_add_check(e, &c)) < 0)
			return rc;
	}
	if (e->rec.calibration && (rc = e->rec.calibration(e->rec.ctx, e)) < 0)
		return rc;
	mg_icp_event ev = {.kind = MG_ICP_EV_CALIBRATED, .item = last};
	if (eval_emit(e, &ev))
		return MG_ERR_INTERRUPTED;
	for (size_t i = 0; i < e->cal_end; i++) {
		if (!e->data[i].have)
			continue;
		if ((rc = eval_evaluate_item(e, i)) < 0) /* with the curves: back-calculated concentrations */
			return rc;
	}
	return MG_OK;
}

int mg_icp_eval_finish(mg_icp_eval *e)
{
	if (!e)
		return mg_fail(MG_ERR_ARG, EVAL_DOM, "no evaluation");
	int rc = MG_OK;
	e->finishing = 1;
	if (!e->calibrated) {
		int any = 0;
		for (size_t i = 0; i < e->cal_end; i++)
			any |= e->data[i].raw != NULL || e->data[i].have;
		if (any)
			rc = eval_calibrate(e, e->have_map ? e->map : NULL);
	}
	eval_flagctx fc = {.e = e, .ccb = 0};
	if (e->q->rerun_on & MG_ICP_RERUN_CCV)
		mg_icp_bracket_end(&e->ccv, eval_on_flag, &fc);
	fc.ccb = 1;
	if (e->q->rerun_on & MG_ICP_RERUN_CCB)
		mg_icp_bracket_end(&e->ccb, eval_on_flag, &fc);
	for (size_t i = 0; i < e->seq->nitems && rc >= 0; i++)
		if (e->res[i].measured && !e->final[i])
			rc = eval_final(e, i);
	return rc;
}
