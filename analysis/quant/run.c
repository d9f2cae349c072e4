/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One quantification run (mg_quant_run): choose the line of every element,
 * attach standards or calibration lines, set up targets and scales for the
 * method, solve the matrix correction, then uncertainties, the elements of
 * the result, flags, totals and the grade. Re-entrant: the prepared object
 * (quant.c) is only read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/quant.h"
#include "quant_internal.h"

/* ---------------------------------------------------------------- one run */

static int knobs_nominal(const mg_quant *q, const q_fp_knobs *k)
{
	return k->sf_scale == q->base.sf_scale && k->tilt == q->base.tilt && (k->mu_z == 0 || k->mu_scale == 1.0);
}

/* G for shell class c under knobs; the mean of the other classes when c has none. */
static double g_for(const double g[3], int c)
{
	if (c >= 0 && c < 3 && g[c] > 0)
		return g[c];
	double s = 0;
	int n = 0;
	for (int i = 0; i < 3; i++)
		if (g[i] > 0) {
			s += g[i];
			n++;
		}
	return n ? s / n : 0;
}

int q_run_setup(q_run *r, const q_fp_knobs *k, const double *fixed_w, q_solve *s)
{
	const mg_quant *q = r->q;
	memset(s, 0, sizeof *s);
	s->fp = q->fp;
	s->knobs = *k;
	s->max_iter = q->o.max_iter > 0 ? q->o.max_iter : 60;
	s->tol = q->o.tol > 0 ? q->o.tol : 1e-6;
	s->balance_el = -1;
	if (q->o.balance[0])
		s->balance_el = q_fp_element_index(q->fp, q_symbol_z(q->o.balance, strlen(q->o.balance)));
	s->normalise = q->o.normalise < 0 ? r->standardless : q->o.normalise;
	for (size_t i = 0; i < q->o.fixed.n; i++) {
		int e = q_fp_element_index(q->fp, q->o.fixed.z[i]);
		if (e < 0 || e == s->balance_el)
			continue;
		s->fixed_el[s->nfixed] = e;
		s->fixed_w[s->nfixed] = fixed_w ? fixed_w[i] : q->o.fixed.w[i];
		s->nfixed++;
	}
	double g[3];
	memcpy(g, q->g, sizeof g);
	if (!knobs_nominal(q, k) && q->ngstd) {
		q_ifac f;
		int rc = q_instrument_factors(q->fp, k, q->gstd, q->ngstd, 0, &f);
		if (rc < 0)
			return rc;
		memcpy(g, f.g, sizeof g);
	}
	double w[2 * MG_QUANT_MAX_EL];
	for (size_t i = 0; i < r->na; i++) {
		const q_an *a = &r->a[i];
		q_analyte *A = &s->a[s->na++];
		A->z = a->z;
		A->el = a->el;
		A->fam = a->fam;
		if (r->method == MG_QUANT_KRATIO && a->std) {
			double N = q->std_rate[a->sidx * MG_QUANT_MAX_EL + a->slidx];
			if (!knobs_nominal(q, k)) {
				int rc = q_comp_to_w(q->fp, &a->std->comp, w);
				double P, S;
				if (rc == 0)
					rc = q_fp_eval(q->fp, w, k, &a->fam, 1, &P, &S);
				if (rc < 0)
					return rc;
				N = P + S;
			}
			if (!(N > 0))
				return mg_fail(MG_ERR_NOT_FOUND, QDOM, "standard %s: no predicted %s %s", a->std->name,
				               q_z_symbol(a->z), a->line->line);
			A->target = a->R / a->std_meas;
			A->scale = 1.0 / N;
		} else {
			A->target = a->R;
			A->scale = r->standardless ? 1.0 : g_for(g, a->cls);
		}
	}
	return 0;
}

static int choose_lines(q_run *r, mg_quant_result *res)
{
	const mg_quant *q = r->q;
	const mg_quant_meas *u = r->unk;
	int fixed_z[MG_QUANT_MAX_EL];
	for (size_t i = 0; i < q->o.fixed.n; i++)
		fixed_z[i] = q->o.fixed.z[i];
	for (size_t i = 0; i < u->n; i++) {
		const mg_quant_line *l = &u->lines[i];
		int skip = 0;
		for (size_t f = 0; f < q->o.fixed.n; f++)
			skip |= fixed_z[f] == l->z;
		if (skip) {
			q_note(res, "%s measured but taken as %s (fixed)", l->element, q->o.fixed_source);
			continue;
		}
		int el = q_fp_element_index(q->fp, l->z);
		if (el < 0) {
			q_note(res, "%s is not in the FP element list: ignored", l->element);
			continue;
		}
		int fam = q_fp_family(q->fp, l->z, l->line);
		if (fam < 0) {
			mg_error_clear();
			q_note(res, "%s %s: no FP family: ignored", l->element, l->line);
			continue;
		}
		/* one line per element: the one with the smallest relative σ */
		size_t k;
		for (k = 0; k < r->na; k++)
			if (r->a[k].z == l->z)
				break;
		double rel = l->area > 0 ? l->sigma / l->area : INFINITY;
		if (k < r->na) {
			const mg_quant_line *o = r->a[k].line;
			double orel = o->area > 0 ? o->sigma / o->area : INFINITY;
			if (!(rel < orel))
				continue;
		} else {
			if (r->na >= MG_QUANT_MAX_EL)
				return mg_fail(MG_ERR_ARG, QDOM, "quant: more than %d analytes", MG_QUANT_MAX_EL);
			r->na++;
		}
		q_an *a = &r->a[k];
		memset(a, 0, sizeof *a);
		a->z = l->z;
		a->el = el;
		a->fam = fam;
		a->cls = q_family_class(l->line);
		a->line = l;
		a->R = mg_quant_line_rate(u, l);
		a->c = q_rate_per_count(u); /* target per count */
	}
	if (!r->na)
		return mg_fail(MG_ERR_ARG, QDOM, "quant %s: no line to quantify", u->name);
	return 0;
}

static void attach_standards(q_run *r, mg_quant_result *res)
{
	const mg_quant *q = r->q;
	for (size_t k = 0; k < r->na; k++) {
		q_an *a = &r->a[k];
		double best = 0;
		for (size_t s = 0; s < q->nstd; s++) {
			double w = mg_quant_comp_get(&q->stds[s].comp, a->z);
			if (!(w > best))
				continue;
			for (size_t i = 0; i < q->stds[s].meas.n; i++) {
				const mg_quant_line *sl = &q->stds[s].meas.lines[i];
				if (sl->z != a->z || strcmp(sl->line, a->line->line) != 0 || !(sl->area > 0) ||
				    !(q->std_rate[s * MG_QUANT_MAX_EL + i] > 0))
					continue;
				best = w;
				a->std = &q->stds[s];
				a->sline = sl;
				a->sidx = s;
				a->slidx = i;
				a->std_meas = mg_quant_line_rate(&q->stds[s].meas, sl);
				a->wstd = w;
				for (size_t c = 0; c < q->stds[s].comp.n; c++)
					if (q->stds[s].comp.z[c] == a->z)
						a->uwstd = q->stds[s].comp.u[c];
			}
		}
		if (r->method == MG_QUANT_KRATIO && !a->std) {
			a->no_std = 1;
			q_note(res, "%s: no standard measured it: FP with the instrument factor", a->line->element);
		}
		a->c /= a->std && r->method == MG_QUANT_KRATIO ? a->std_meas : 1.0;
	}
}

static void attach_empirical(q_run *r)
{
	const mg_quant *q = r->q;
	for (size_t k = 0; k < r->na; k++)
		for (size_t i = 0; i < q->cal.nlines; i++)
			if (q->cal.lines[i].z == r->a[k].z && strcmp(q->cal.lines[i].line, r->a[k].line->line) == 0)
				r->a[k].emp = &q->cal.lines[i];
}

static int pick_major(const q_run *r)
{
	size_t ne = q_fp_nelements(r->q->fp);
	double best = 0;
	int z = 0;
	for (size_t e = 0; e < ne; e++)
		if (r->w[e] > best) {
			best = r->w[e];
			z = q_fp_element_z(r->q->fp, e);
		}
	return z;
}

int mg_quant_run(const mg_quant *q, const mg_quant_meas *unk, mg_quant_result *res, mg_quant_kratio *kratios,
                 size_t max_k, size_t *nk)
{
	return q_quant_run(q, unk, res, kratios, max_k, nk, 0, NULL);
}

int q_quant_run(const mg_quant *q, const mg_quant_meas *unk, mg_quant_result *res, mg_quant_kratio *kratios,
                size_t max_k, size_t *nk, unsigned extra_flags, const mg_quant_comp *start)
{
	if (!q || !unk || !res)
		return mg_fail(MG_ERR_ARG, QDOM, "quant run: NULL argument");
	if (!(unk->live_time_s > 0))
		return mg_fail(MG_ERR_ARG, QDOM, "quant %s: no live time", unk->name);
	memset(res, 0, sizeof *res);
	if (nk)
		*nk = 0;
	q_run *r = calloc(1, sizeof *r);
	if (!r)
		return mg_fail(MG_ERR_NOMEM, QDOM, "out of memory");
	r->q = q;
	r->unk = unk;
	r->flags = q->o.flags | extra_flags;
	r->method = q->o.method;
	res->method = r->method;
	if (q->has_cal) {
		res->calibration_id = q->cal.id;
		if (q->cal.name[0])
			snprintf(res->calibration, sizeof res->calibration, "%s v%d", q->cal.name, q->cal.version);
	}
	int rc = choose_lines(r, res);
	if (rc < 0)
		goto out;
	attach_standards(r, res);
	if (r->method == MG_QUANT_EMPIRICAL)
		attach_empirical(r);
	int have_g = q->g[0] > 0 || q->g[1] > 0 || q->g[2] > 0;
	r->standardless = r->method != MG_QUANT_KRATIO && !have_g;
	if (r->method == MG_QUANT_KRATIO) {
		int any_nostd = 0;
		for (size_t k = 0; k < r->na; k++)
			any_nostd |= r->a[k].no_std;
		if (any_nostd && !have_g) {
			rc = mg_fail(MG_ERR_ARG, QDOM,
			             "k-ratio method: an element has no standard and no instrument factor is known");
			goto out;
		}
		snprintf(res->method_detail, sizeof res->method_detail, "kratio");
	} else if (r->method == MG_QUANT_FP) {
		if (r->standardless)
			snprintf(res->method_detail, sizeof res->method_detail, "fp-standardless");
		else
			snprintf(res->method_detail, sizeof res->method_detail, "fp-%zu-standard%s", q->ngstd,
			         q->ngstd == 1 ? "" : "s");
	} else {
		snprintf(res->method_detail, sizeof res->method_detail, "empirical");
	}
	if ((rc = q_run_setup(r, &q->base, NULL, &r->s)) < 0)
		goto out;
	for (size_t k = 0; start && k < r->na; k++) /* a warm start (see q_quant_run) */
		r->s.w[r->a[k].el] = mg_quant_comp_get(start, r->a[k].z);
	if (r->s.balance_el >= 0 && start)
		r->s.w[r->s.balance_el] = mg_quant_comp_get(start, q_fp_element_z(q->fp, (size_t)r->s.balance_el));
	if ((rc = q_solve_run(&r->s)) < 0)
		goto out;
	memcpy(r->w, r->s.w, sizeof r->w);
	if (r->method == MG_QUANT_EMPIRICAL && (rc = q_empirical_apply(r)) < 0)
		goto out;
	r->mu_z = pick_major(r);
	if ((rc = q_uncertainty(r)) < 0)
		goto out;
	res->iterations = r->s.iterations;
	res->converged = r->s.converged;

	/* the elements: analytes, the balance, the fixed ones */
	for (size_t k = 0; k < r->na; k++) {
		const q_an *a = &r->a[k];
		mg_quant_element *e = &res->el[res->n++];
		e->z = a->z;
		snprintf(e->element, sizeof e->element, "%s", a->line->element);
		snprintf(e->line, sizeof e->line, "%s", a->line->line);
		e->wt_pct = 100 * r->w[a->el];
		e->u_counting = 100 * r->u_count[k];
		e->u_calibration = 100 * r->u_cal[k];
		e->u_matrix = 100 * r->u_mat[k];
		e->sigma = sqrt(e->u_counting * e->u_counting + e->u_calibration * e->u_calibration +
		                e->u_matrix * e->u_matrix);
		e->lod_wt_pct = 100 * r->lod[k];
		e->loq_wt_pct = 100 * r->loq[k];
		e->k = e->k_sigma = NAN;
		if (r->method == MG_QUANT_KRATIO && a->std) {
			e->k = a->R / a->std_meas;
			e->k_sigma = a->line->sigma * a->c;
		}
		if (a->no_std)
			e->flags |= MG_QE_NO_STANDARD;
		snprintf(e->source, sizeof e->source, "xrf");
	}
	if (r->s.balance_el >= 0) {
		mg_quant_element *e = &res->el[res->n++];
		e->z = q_fp_element_z(q->fp, (size_t)r->s.balance_el);
		snprintf(e->element, sizeof e->element, "%s", q_z_symbol(e->z));
		e->wt_pct = 100 * r->w[r->s.balance_el];
		e->sigma = e->u_matrix = 100 * r->u_balance;
		e->k = e->k_sigma = e->lod_wt_pct = e->loq_wt_pct = NAN;
		e->flags |= MG_QE_DIFFERENCE;
		snprintf(e->source, sizeof e->source, "difference");
	}
	for (size_t i = 0; i < q->o.fixed.n && res->n < MG_QUANT_MAX_EL; i++) {
		int z = q->o.fixed.z[i];
		if (q_fp_element_index(q->fp, z) == r->s.balance_el)
			continue;
		mg_quant_element *e = &res->el[res->n++];
		e->z = z;
		snprintf(e->element, sizeof e->element, "%s", q_z_symbol(z));
		e->wt_pct = 100 * q->o.fixed.w[i];
		e->sigma = e->u_calibration = 100 * q->o.fixed.u[i];
		e->k = e->k_sigma = e->lod_wt_pct = e->loq_wt_pct = NAN;
		int icp = strcmp(q->o.fixed_source, "icp") == 0;
		e->flags |= icp ? MG_QE_ICP : MG_QE_NOMINAL;
		snprintf(e->source, sizeof e->source, "%s", icp ? "icp" : "nominal");
	}
	if (r->s.normalise && r->s.balance_el < 0)
		res->flags |= MG_QS_NORMALISED;
	if (!r->s.converged)
		res->flags |= MG_QS_NOT_CONVERGED;
	mg_quant_totals(res);
	if (r->s.normalise && r->s.balance_el < 0)
		res->total.wt_pct = 100 * r->s.sum_raw * (r->standardless ? NAN : 1);
	q_flags(r, res);
	if (q->o.grades)
		mg_grade_classify(q->o.grades, res);
	if (kratios || nk) {
		int n = mg_quant_kratios(unk, q->stds, q->nstd, kratios, max_k);
		if (n > 0 && nk)
			*nk = (size_t)n;
	}
	rc = 0;
out:
	free(r);
	return rc;
}
