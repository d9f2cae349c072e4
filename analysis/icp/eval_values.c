/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The values of a measured item (eval_internal.h): responses corrected for
 * the internal standard, replicate statistics, concentrations by inverse
 * prediction on the curves (or the vendor's), inter-element corrections,
 * the result flags, and mass fractions in the solid. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eval_internal.h"
#include "internal.h"

double eval_lloq(const mg_icp_eval *e, int a)
{
	const mg_icp_analyte *an = &e->m->analyte[a];
	if (isfinite(an->lloq))
		return an->lloq;
	size_t l = e->primary[a];
	return e->curve_ok[l] ? e->curve[l].loq : NAN;
}

const mg_icp_solution *eval_item_solution(const mg_icp_eval *e, size_t i, int kind)
{
	const mg_icp_item *it = &e->seq->items[i];
	const char *name = it->solution;
	if (!name[0])
		name = it->type == MG_ICP_ITEM_ICV ? "ICV" : it->type == MG_ICP_ITEM_CCV ? "CCV"
		       : it->type == MG_ICP_ITEM_LLOQ ? "LLOQ" : it->label;
	return mg_icp_method_solution(e->m, name, kind);
}

/* responses (IS-corrected), replicate statistics, concentrations, IEC, flags, solid */
void eval_compute_values(mg_icp_eval *e, size_t i)
{
	const mg_icp_method *m = e->m;
	icp_item_data *d = &e->data[i];
	mg_icp_item_result *res = &e->res[i];
	size_t nrep = d->nrep;
	res->nreplicates = nrep;
	memcpy(res->net_rep, d->net, sizeof(res->net_rep));
	int is_bad = 0;
	/* the internal standard */
	if (e->is_line >= 0 && isfinite(e->is_ref) && !e->conc_mode) {
		double rec;
		for (size_t l = 0; l < e->nlines; l++)
			if ((int)l == e->is_line) {
				memcpy(d->resp[l], d->net[l], sizeof(d->resp[l])); /* the IS itself: its raw net */
			} else if (mg_icp_intstd_correct(d->net[l], d->net[e->is_line], nrep, e->is_ref, d->resp[l], &rec) !=
			           MG_OK) {
				is_bad = 1;
				memcpy(d->resp[l], d->net[l], sizeof(d->resp[l]));
			} else {
				res->is_recovery_pct = rec;
			}
	} else {
		for (size_t l = 0; l < e->nlines; l++)
			memcpy(d->resp[l], d->net[l], sizeof(d->resp[l]));
		if (e->is_line >= 0 && isfinite(e->is_ref)) {
			mg_icp_stats s;
			mg_icp_stats_compute(d->net[e->is_line], nrep, &s);
			res->is_recovery_pct = isfinite(s.mean) ? 100.0 * s.mean / e->is_ref : NAN;
		}
	}
	/* concentrations per line */
	double capp[MG_ICP_MAX_LINES], uapp[MG_ICP_MAX_LINES];
	for (size_t l = 0; l < e->nlines; l++) {
		mg_icp_value *v = &res->line[l];
		mg_icp_stats sr, sc;
		mg_icp_stats_compute(d->resp[l], nrep, &sr);
		v->net = sr.mean;
		v->net_rsd_pct = sr.rsd_pct;
		capp[l] = uapp[l] = NAN;
		if (d->fit_status[l] != MG_OK)
			v->flags |= MG_ICP_RF_FIT_FAIL;
		if (is_bad)
			v->flags |= MG_ICP_RF_IS_FAIL;
		if (e->line_analyte[l] < 0)
			continue;
		double cr[MG_ICP_MAX_REPLICATES];
		if (e->conc_mode) {
			for (size_t k = 0; k < nrep; k++)
				cr[k] = d->conc[l][k];
			mg_icp_stats_compute(cr, nrep, &sc);
			capp[l] = sc.mean;
			uapp[l] = sc.n >= 2 ? sc.sd / sqrt((double)sc.n) : NAN;
		} else if (e->curve_ok[l] && isfinite(sr.mean)) {
			for (size_t k = 0; k < nrep; k++)
				if (!isfinite(d->resp[l][k]) || mg_icp_curve_invert(&e->curve[l], d->resp[l][k], 0, &cr[k], NULL) != MG_OK)
					cr[k] = NAN;
			mg_icp_stats_compute(cr, nrep, &sc);
			double uy = sr.n >= 2 && isfinite(sr.sd) ? sr.sd / sqrt((double)sr.n) : e->curve[l].s_yx;
			if (mg_icp_curve_invert(&e->curve[l], sr.mean, uy, &capp[l], &uapp[l]) != MG_OK)
				capp[l] = uapp[l] = NAN;
		} else {
			mg_icp_stats_compute(cr, 0, &sc);
			if (e->calibrated)
				v->flags |= MG_ICP_RF_CAL_FAIL;
		}
		v->sd = sc.sd;
		v->rsd_pct = sc.rsd_pct;
	}
	/* inter-element corrections on the reporting lines (Jacobi iterations:
	 * an interferent may itself be corrected) */
	double cc[MG_ICP_MAX_LINES];
	memcpy(cc, capp, sizeof(cc));
	if (!e->conc_mode) {
		for (int iter = 0; iter < 6; iter++) {
			double nx[MG_ICP_MAX_LINES];
			memcpy(nx, cc, sizeof(nx));
			for (size_t a = 0; a < m->nanalytes; a++) {
				const mg_icp_analyte *an = &m->analyte[a];
				if (!an->niec)
					continue;
				double ci[MG_ICP_MAX_IEC], ui[MG_ICP_MAX_IEC];
				for (size_t j = 0; j < an->niec; j++) {
					int b = mg_icp_method_analyte(m, an->iec[j].element);
					ci[j] = b >= 0 ? cc[e->primary[b]] : NAN;
					ui[j] = b >= 0 ? uapp[e->primary[b]] : NAN;
				}
				size_t l = e->primary[a];
				double c, u;
				if (isfinite(capp[l]) && mg_icp_iec_apply(capp[l], uapp[l], an->iec, an->niec, ci, ui, &c, &u) == MG_OK) {
					nx[l] = c;
					if (iter == 5)
						uapp[l] = u;
				}
			}
			memcpy(cc, nx, sizeof(cc));
		}
	}
	mg_icp_digest dg;
	mg_icp_item_digest(e->seq, i, m, &dg);
	const mg_icp_item *it = &e->seq->items[i];
	int solid = mg_icp_item_is_sample(it->type) && dg.mass_g > 0 && dg.volume_ml > 0;
	for (size_t l = 0; l < e->nlines; l++) {
		int a = e->line_analyte[l];
		if (a < 0)
			continue;
		mg_icp_value *v = &res->line[l];
		v->conc = cc[l];
		v->u_conc = uapp[l];
		if (!isfinite(v->conc))
			continue;
		if (!e->conc_mode && e->curve_ok[l]) {
			const mg_icp_curve *cv = &e->curve[l];
			double loq = e->line_primary[l] ? eval_lloq(e, a) : cv->loq;
			if (isfinite(cv->lod) && v->conc < cv->lod)
				v->flags |= MG_ICP_RF_BELOW_LOD;
			if (isfinite(loq) && v->conc < loq)
				v->flags |= MG_ICP_RF_BELOW_LOQ;
			double top = 0;
			for (size_t k = 0; k < cv->n; k++)
				top = fmax(top, cv->x[k]);
			if (isfinite(e->q->range_max_pct) && top > 0 && v->conc > top * e->q->range_max_pct / 100.0)
				v->flags |= MG_ICP_RF_OVER_RANGE;
		} else if (e->conc_mode && e->line_primary[l]) {
			double loq = eval_lloq(e, a);
			if (isfinite(loq) && v->conc < loq)
				v->flags |= MG_ICP_RF_BELOW_LOQ;
		}
		if (isfinite(e->q->rsd_max_pct) && isfinite(v->rsd_pct) && v->rsd_pct > e->q->rsd_max_pct &&
		    !(v->flags & MG_ICP_RF_BELOW_LOQ))
			v->flags |= MG_ICP_RF_RSD;
		if (e->line_primary[l] && e->cal_failed[a])
			v->flags |= MG_ICP_RF_CAL_FAIL;
		if (e->icv_seen && e->icv_failed[a] && i >= e->cal_end)
			v->flags |= MG_ICP_RF_ICV_FAIL;
		if (!e->line_primary[l] && mg_icp_known_overlap(m->analyte[a].element, e->lines[l].wavelength_nm, NULL))
			v->flags |= MG_ICP_RF_INTERFERED;
		if (solid)
			mg_icp_solid(v->conc, v->u_conc, &dg, &v->w_pct, &v->u_w_pct);
	}
	if (solid && (it->type == MG_ICP_ITEM_SAMPLE || it->type == MG_ICP_ITEM_DUPLICATE || it->type == MG_ICP_ITEM_CRM)) {
		double t = m->total_other_pct;
		int any = 0;
		for (size_t a = 0; a < m->nanalytes; a++) {
			if (!m->analyte[a].in_total)
				continue;
			double w = res->line[e->primary[a]].w_pct;
			if (!isfinite(w)) {
				t = NAN;
				break;
			}
			t += w;
			any = 1;
		}
		res->total_pct = any ? t : NAN;
	}
}
