/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The QC checks of a measured item (eval_internal.h), EPA 6010D / 200.7
 * style with every limit from the QC profile: internal standard recovery,
 * ICV/CCV and LLOQ recoveries, blanks against the LLOQ, duplicate RPD, spike
 * recovery, CRM recovery, the total; CCVs and CCBs close brackets; then the
 * MEASURED event and the results nothing can change any more. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eval_internal.h"
#include "internal.h"


static int check_blank(mg_icp_eval *e, size_t i, mg_icp_check_type type, int *judged, int *failed)
{
	const mg_icp_method *m = e->m;
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (!m->analyte[a].report)
			continue;
		mg_icp_check c;
		eval_check_init(e, &c, type, i, (int)a);
		double lloq = eval_lloq(e, (int)a);
		double f = isfinite(e->q->blank_lloq_factor) ? e->q->blank_lloq_factor : NAN;
		c.value = c.measured = e->res[i].line[e->primary[a]].conc;
		snprintf(c.unit, sizeof(c.unit), "mg/L");
		if (isfinite(lloq) && isfinite(f)) {
			c.lo = -f * lloq;
			c.hi = f * lloq;
			c.outcome = mg_icp_judge(c.value, (mg_icp_limits){c.lo, c.hi});
			snprintf(c.note, sizeof(c.note), "|C| below %g × LLOQ (%.4g mg/L)", f, lloq);
		} else {
			snprintf(c.note, sizeof(c.note), "no LLOQ or no blank limit in the QC profile");
		}
		if (judged)
			judged[a] = c.outcome != MG_ICP_NA;
		if (failed)
			failed[a] = c.outcome == MG_ICP_FAIL;
		int rc = eval_add_check(e, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}


static int check_recovery(mg_icp_eval *e, size_t i, mg_icp_check_type type, mg_icp_limits lim, int *judged,
                          int *failed)
{
	const mg_icp_method *m = e->m;
	const mg_icp_solution *so = eval_item_solution(e, i, MG_ICP_SOL_CHECK);
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (judged)
			judged[a] = 0;
		if (failed)
			failed[a] = 0;
		if (!m->analyte[a].report || !so || !isfinite(so->value[a]))
			continue;
		mg_icp_check c;
		eval_check_init(e, &c, type, i, (int)a);
		c.measured = e->res[i].line[e->primary[a]].conc;
		c.expected = so->value[a];
		c.value = mg_icp_recovery_pct(c.measured, c.expected);
		c.lo = lim.lo;
		c.hi = lim.hi;
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.outcome = mg_icp_judge(c.value, lim);
		snprintf(c.note, sizeof(c.note), "%.5g of %.5g mg/L (%s)", c.measured, c.expected, so->name);
		if (judged)
			judged[a] = c.outcome != MG_ICP_NA;
		if (failed)
			failed[a] = c.outcome == MG_ICP_FAIL;
		int rc = eval_add_check(e, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}


static int check_duplicate(mg_icp_eval *e, size_t i)
{
	const mg_icp_method *m = e->m;
	size_t p = e->seq->items[i].parent;
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (!m->analyte[a].report)
			continue;
		mg_icp_check c;
		eval_check_init(e, &c, MG_ICP_CHECK_DUPLICATE, i, (int)a);
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.hi = e->q->dup_rpd_max;
		size_t l = e->primary[a];
		if (p == NOITEM || !e->res[p].measured) {
			snprintf(c.note, sizeof(c.note), "the original sample was not measured");
		} else {
			const mg_icp_value *va = &e->res[p].line[l], *vb = &e->res[i].line[l];
			int solid = isfinite(va->w_pct) && isfinite(vb->w_pct);
			c.measured = solid ? vb->w_pct : vb->conc;
			c.expected = solid ? va->w_pct : va->conc;
			c.value = mg_icp_rpd_pct(c.expected, c.measured);
			double lloq = eval_lloq(e, (int)a), f = e->q->dup_min_lloq_factor;
			if (isfinite(lloq) && isfinite(f) && (va->conc < f * lloq || vb->conc < f * lloq)) {
				snprintf(c.note, sizeof(c.note), "below %g × LLOQ (%.4g mg/L): RPD not judged", f, lloq);
				c.value = NAN;
			} else {
				c.outcome = mg_icp_judge(c.value, (mg_icp_limits){NAN, c.hi});
				snprintf(c.note, sizeof(c.note), "%.40s %.5g vs %.40s %.5g %s", e->seq->items[p].label, c.expected,
				         e->seq->items[i].label, c.measured, solid ? "wt%" : "mg/L");
			}
		}
		int rc = eval_add_check(e, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}


static int check_spike(mg_icp_eval *e, size_t i)
{
	const mg_icp_method *m = e->m;
	size_t p = e->seq->items[i].parent;
	const mg_icp_solution *so = eval_item_solution(e, i, MG_ICP_SOL_SPIKE);
	mg_icp_digest dg;
	mg_icp_item_digest(e->seq, i, m, &dg);
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (!m->analyte[a].report || !so || !isfinite(so->value[a]))
			continue;
		mg_icp_check c;
		eval_check_init(e, &c, MG_ICP_CHECK_SPIKE, i, (int)a);
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.lo = e->q->spike.lo;
		c.hi = e->q->spike.hi;
		size_t l = e->primary[a];
		double added = so->value[a];
		c.measured = e->res[i].line[l].conc;
		if (p == NOITEM || !e->res[p].measured) {
			snprintf(c.note, sizeof(c.note), "the unspiked sample was not measured");
		} else {
			const mg_icp_value *vp = &e->res[p].line[l];
			/* the unspiked contribution in this solution: via the parent's mass fraction */
			double unsp = isfinite(vp->w_pct) ? mg_icp_solution_conc(vp->w_pct, &dg) : vp->conc;
			c.expected = unsp + added;
			c.value = mg_icp_spike_recovery_pct(c.measured, unsp, added);
			double f = e->q->spike_max_ratio;
			if (isfinite(f) && isfinite(unsp) && unsp > f * added)
				snprintf(c.note, sizeof(c.note), "the sample (%.4g mg/L) exceeds %g × the spike (%.4g): not judged",
				         unsp, f, added);
			else {
				c.outcome = mg_icp_judge(c.value, e->q->spike);
				snprintf(c.note, sizeof(c.note), "(%.5g − %.5g) / %.5g mg/L added (%s)", c.measured, unsp, added,
				         so->name);
			}
		}
		int rc = eval_add_check(e, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}


static int check_crm(mg_icp_eval *e, size_t i)
{
	const mg_icp_method *m = e->m;
	const mg_icp_solution *so = eval_item_solution(e, i, MG_ICP_SOL_CRM);
	for (size_t a = 0; a < m->nanalytes; a++) {
		if (!m->analyte[a].report || !so || !isfinite(so->value[a]))
			continue;
		mg_icp_check c;
		eval_check_init(e, &c, MG_ICP_CHECK_CRM, i, (int)a);
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.measured = e->res[i].line[e->primary[a]].w_pct;
		c.expected = so->value[a];
		c.value = mg_icp_recovery_pct(c.measured, c.expected);
		mg_icp_limits lim = e->q->crm;
		if (isnan(lim.lo) && isnan(lim.hi) && isfinite(so->u[a]) && so->value[a] > 0) {
			lim.lo = 100.0 * (1 - so->u[a] / so->value[a]);
			lim.hi = 100.0 * (1 + so->u[a] / so->value[a]);
			snprintf(c.note, sizeof(c.note), "%.5g of %.5g ± %.3g wt%% (%s, certified U)", c.measured, c.expected,
			         so->u[a], so->name);
		} else {
			snprintf(c.note, sizeof(c.note), "%.5g of %.5g wt%% (%s)", c.measured, c.expected, so->name);
		}
		c.lo = lim.lo;
		c.hi = lim.hi;
		c.outcome = mg_icp_judge(c.value, lim);
		int rc = eval_add_check(e, &c);
		if (rc < 0)
			return rc;
	}
	return MG_OK;
}

/* Bracket bookkeeping after a CCV or CCB was judged. */
static int bracket(mg_icp_eval *e, size_t i, int ccb, const int *judged, const int *failed)
{
	unsigned need = ccb ? MG_ICP_RERUN_CCB : MG_ICP_RERUN_CCV;
	if (!(e->q->rerun_on & need))
		return MG_OK;
	eval_flagctx fc = {.e = e, .ccb = ccb};
	mg_icp_bracket_check(ccb ? &e->ccb : &e->ccv, i, judged, failed, eval_on_flag, &fc);
	return fc.stop ? MG_ERR_INTERRUPTED : MG_OK;
}

/* Everything about a measured item after its nets are known. */
int eval_evaluate_item(mg_icp_eval *e, size_t i)
{
	const mg_icp_item *it = &e->seq->items[i];
	mg_icp_item_result *res = &e->res[i];
	eval_compute_values(e, i);
	int rc = MG_OK;
	int judged[MG_ICP_MAX_ANALYTES] = {0}, failed[MG_ICP_MAX_ANALYTES] = {0};
	/* the internal standard */
	if (e->is_line >= 0 && i != e->is_ref_item && isfinite(e->is_ref)) {
		mg_icp_check c;
		eval_check_init(e, &c, MG_ICP_CHECK_INTERNAL_STD, i, -1);
		snprintf(c.element, sizeof(c.element), "%s", e->lines[e->is_line].element);
		snprintf(c.line, sizeof(c.line), "%s", e->lines[e->is_line].label);
		snprintf(c.unit, sizeof(c.unit), "%%");
		c.value = res->is_recovery_pct;
		mg_icp_stats is;
		mg_icp_stats_compute(e->data[i].net[e->is_line], e->data[i].nrep, &is);
		c.measured = is.mean;
		c.expected = e->is_ref;
		c.lo = e->q->is_recovery.lo;
		c.hi = e->q->is_recovery.hi;
		c.outcome = mg_icp_judge(c.value, e->q->is_recovery);
		snprintf(c.note, sizeof(c.note), "of the calibration blank");
		if (c.outcome == MG_ICP_FAIL)
			for (size_t l = 0; l < e->nlines; l++)
				res->line[l].flags |= MG_ICP_RF_IS_FAIL;
		if ((rc = eval_add_check(e, &c)) < 0)
			return rc;
	}
	switch (it->type) {
	case MG_ICP_ITEM_ICV:
		rc = check_recovery(e, i, MG_ICP_CHECK_ICV, e->q->icv, judged, failed);
		e->icv_seen = 1;
		for (size_t a = 0; a < e->m->nanalytes; a++) {
			e->icv_failed[a] = failed[a];
			if (failed[a])
				for (size_t l = 0; l < e->nlines; l++)
					if (e->line_analyte[l] == (int)a)
						res->line[l].flags |= MG_ICP_RF_ICV_FAIL;
		}
		break;
	case MG_ICP_ITEM_ICB:
		rc = check_blank(e, i, MG_ICP_CHECK_ICB, NULL, NULL);
		break;
	case MG_ICP_ITEM_METHOD_BLANK:
		if ((rc = mg_icp_bracket_add_sample(&e->ccv, i)) == MG_OK && (rc = mg_icp_bracket_add_sample(&e->ccb, i)) == MG_OK)
			rc = check_blank(e, i, MG_ICP_CHECK_METHOD_BLANK, NULL, NULL);
		break;
	case MG_ICP_ITEM_LLOQ:
		rc = check_recovery(e, i, MG_ICP_CHECK_LLOQ, e->q->lloq_check, NULL, NULL);
		break;
	case MG_ICP_ITEM_CCV:
		if ((rc = check_recovery(e, i, MG_ICP_CHECK_CCV, e->q->ccv, judged, failed)) == MG_OK)
			rc = bracket(e, i, 0, judged, failed);
		break;
	case MG_ICP_ITEM_CCB:
		if ((rc = check_blank(e, i, MG_ICP_CHECK_CCB, judged, failed)) == MG_OK)
			rc = bracket(e, i, 1, judged, failed);
		break;
	case MG_ICP_ITEM_SAMPLE:
	case MG_ICP_ITEM_DUPLICATE:
	case MG_ICP_ITEM_SPIKE:
	case MG_ICP_ITEM_CRM:
		if ((rc = mg_icp_bracket_add_sample(&e->ccv, i)) < 0 || (rc = mg_icp_bracket_add_sample(&e->ccb, i)) < 0)
			break;
		if (it->type == MG_ICP_ITEM_DUPLICATE)
			rc = check_duplicate(e, i);
		else if (it->type == MG_ICP_ITEM_SPIKE)
			rc = check_spike(e, i);
		else if (it->type == MG_ICP_ITEM_CRM)
			rc = check_crm(e, i);
		break;
	default:
		break;
	}
	if (rc < 0)
		return rc;
	if (isfinite(res->total_pct) && !(isnan(e->q->total.lo) && isnan(e->q->total.hi))) {
		mg_icp_check c;
		eval_check_init(e, &c, MG_ICP_CHECK_TOTAL, i, -1);
		snprintf(c.unit, sizeof(c.unit), "wt%%");
		c.value = c.measured = res->total_pct;
		c.lo = e->q->total.lo;
		c.hi = e->q->total.hi;
		c.outcome = mg_icp_judge(c.value, e->q->total);
		if (e->m->total_other_pct > 0)
			snprintf(c.note, sizeof(c.note), "measured analytes + %g wt%% not measured", e->m->total_other_pct);
		if ((rc = eval_add_check(e, &c)) < 0)
			return rc;
	}
	mg_icp_event ev = {.kind = MG_ICP_EV_MEASURED, .item = i};
	if (eval_emit(e, &ev))
		return MG_ERR_INTERRUPTED;
	/* results that nothing can change any more */
	if (!mg_icp_item_is_sample(it->type))
		if ((rc = eval_final(e, i)) < 0)
			return rc;
	int closes = it->type == MG_ICP_ITEM_CCB ||
	             (it->type == MG_ICP_ITEM_CCV && (i + 1 >= e->seq->nitems || e->seq->items[i + 1].type != MG_ICP_ITEM_CCB));
	if (closes)
		for (size_t k = 0; k < i; k++)
			if (e->res[k].measured && !e->final[k] && (rc = eval_final(e, k)) < 0)
				return rc;
	return MG_OK;
}
